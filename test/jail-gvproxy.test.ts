// The real gvproxy (not the contract fake) in the real jail, with the
// gvproxy.yaml bottle renders: its socket appears in <run>/jail, the host
// side reaches its API through the launcher's checked link, and what it does
// on stop and over a stale socket. Needs bwrap and a gvproxy binary:
// gvproxy found as bottle finds it (PATH, then .tools/bin from `npm run tools`).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findTool } from "../src/lib/host-tools.js";
import { skipSuite } from "./helpers/skip.js";
import { underJailParent } from "./helpers/jail.js";
import {
  detectJail,
  handOverJailDir,
  jailCommand,
  jailFileSystem,
  jailScripts,
  linkGvproxySocket,
  prepareJailDir,
  startHostRelays,
  type HostRelays,
  type JailCredentials,
  type JailLayout,
} from "../src/backends/smolmachines/jail/index.js";
import { renderGvproxyConfig } from "../src/backends/smolmachines/render/gvproxy.js";
import { waitForSocket } from "../src/backends/smolmachines/process/readiness.js";
import { subnetForSlug } from "../src/backends/smolmachines/subnet.js";
import { exitOf } from "./helpers/fakes.js";
import { tempDir } from "./helpers/tmp.js";

const READY_MS = 15_000;

/** GET over a unix socket; resolves with the status and body. */
function getOverUnix(socketPath: string, path: string): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function sidecar(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end("sidecar"));
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** gvproxy's pid on the host and in its jail (NSpid), found by the pid file path in its command line's config. */
function gvproxyPids(layout: JailLayout): [number, number] {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== "gvproxy") continue;
      const nspid = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1]?.split(/\s+/).map(Number) ?? [];
      const jailPid = nspid[nspid.length - 1]!;
      if (readFileSync(layout.gvproxyPid, "utf8") === String(jailPid) && nspid.length > 1) return [Number(entry), jailPid];
    } catch {
      // exited while we looked
    }
  }
  throw new Error("no jailed gvproxy process found");
}

interface Run {
  child: ChildProcess;
  layout: JailLayout;
  credentials: JailCredentials;
  stderr: () => string;
}

// By real path, as the launch runs it (a .tools symlinked into a checkout points elsewhere).
const gvproxy = findTool("gvproxy") === null ? null : realpathSync(findTool("gvproxy")!);
const support = await detectJail();

if (support.kind !== "bwrap") {
  skipSuite("jail-gvproxy", support.kind === "unavailable" ? support.reason : `this host uses ${support.kind}`);
} else if (!gvproxy) {
  skipSuite("jail-gvproxy", "no real gvproxy on PATH or in .tools/bin: run `npm run tools`");
} else {
  let relays: HostRelays | undefined;
  let side: { server: Server; port: number } | undefined;
  const runs: ChildProcess[] = [];

  test.after(async () => {
    for (const child of runs) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await relays?.close();
    side?.server.close();
  });

  /** Renders gvproxy.yaml for `runDir`, then starts the real gvproxy in the jail (over a stale socket if asked). */
  async function startJailedGvproxy(runDir: string, staleSocket = false): Promise<Run> {
    const stage = join(runDir, "..", "stage");
    mkdirSync(stage, { recursive: true, mode: 0o700 });
    const config = join(stage, "gvproxy.yaml");
    // 0600 in the stage dir, as bottle writes it: the jail gets a copy.
    writeFileSync(config, renderGvproxyConfig({ subnet: subnetForSlug("jail-gv"), runDir }), { mode: 0o600 });
    const layout = prepareJailDir(runDir);
    if (staleSocket) {
      // What a SIGKILLed gvproxy leaves: a socket file nothing listens on.
      const script = `require("node:net").createServer().listen(${JSON.stringify(layout.gvproxySocket)}, () => process.kill(process.pid, "SIGKILL"))`;
      spawnSync(process.execPath, ["-e", script]);
      assert.ok(statSync(layout.gvproxySocket).isSocket(), "the stale socket is there");
    }
    side ??= await sidecar();
    await relays?.close(); // left open by a test that failed before closing them
    relays = await startHostRelays({ runDir, ports: [side.port] });
    const fileSystem = jailFileSystem({ nodePath: process.execPath, files: [gvproxy!], copies: [config] });
    handOverJailDir(layout, fileSystem.credentials);
    const jail = jailCommand({
      support: support as Exclude<typeof support, { kind: "unavailable" }>,
      runDir,
      ports: [side.port],
      inner: [gvproxy!, "-config", config],
      ...jailScripts(),
      fileSystem,
    });
    const [node, ...parentArgs] = underJailParent(jail);
    const child = spawn(node, parentArgs, { stdio: ["ignore", "pipe", "pipe"] });
    runs.push(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return { child, layout, credentials: fileSystem.credentials, stderr: () => stderr };
  }

  function freshRunDir(): string {
    const runDir = join(tempDir("bj-gv-"), "run");
    mkdirSync(runDir, { mode: 0o700 });
    return runDir;
  }

  test("the real gvproxy starts in the jail; its socket, pid and log files appear in <run>/jail and the host reaches its API", async () => {
    const runDir = freshRunDir();
    const { child, layout, credentials, stderr } = await startJailedGvproxy(runDir);
    const exit = exitOf(child, () => ({ stdout: "", stderr: stderr() }), READY_MS * 2);
    await waitForSocket(layout.gvproxySocket, { timeoutMs: READY_MS, exited: exit.then(({ code, signal }) => ({ code, signal })), what: "gvproxy" }).catch((error: Error) => {
      throw new Error(`${error.message}\nstderr: ${stderr()}\nlog: ${existsSync(layout.gvproxyLog) ? readFileSync(layout.gvproxyLog, "utf8") : "(none)"}`);
    });
    const host = linkGvproxySocket(layout, credentials);
    assert.is(host, join(runDir, "gvproxy.sock"));
    // gvproxy's control API (the same socket serves /connect to gvforwarder).
    const reply = await getOverUnix(host, "/services/forwarder/all");
    assert.is(reply.status, 200);
    assert.is(reply.body.trim(), "[]");
    assert.match(readFileSync(layout.gvproxyLog, "utf8"), `listening unix://${layout.gvproxySocket}`);
    // The pid file holds gvproxy's pid in the jail's pid namespace, not the host's: no use outside.
    const [hostPid, jailPid] = gvproxyPids(layout);
    assert.is(readFileSync(layout.gvproxyPid, "utf8"), String(jailPid));
    assert.is.not(jailPid, hostPid);

    // SIGTERM (routed by bwrap-process to the jail's pid 1, relay-inside): v0.8.9 exits 0, and removes its socket and pid file.
    child.kill("SIGTERM");
    const stopped = await exit;
    assert.equal([stopped.code, stopped.signal], [0, null], stderr());
    assert.not.ok(existsSync(layout.gvproxySocket), "gvproxy removed its socket");
    assert.not.ok(existsSync(layout.gvproxyPid), "gvproxy removed its pid file");
    assert.match(readFileSync(layout.gvproxyLog, "utf8"), /gvproxy exiting: signal caught/);
    await relays?.close();
    relays = undefined;
  });

  test("over a stale socket the real gvproxy exits 0 without listening: why each launch starts from a fresh jail dir", async () => {
    const runDir = freshRunDir();
    const { child, layout, stderr } = await startJailedGvproxy(runDir, true);
    const exit = await exitOf(child, () => ({ stdout: "", stderr: stderr() }), READY_MS);
    assert.equal([exit.code, exit.signal], [0, null]);
    assert.match(readFileSync(layout.gvproxyLog, "utf8"), /cannot listen: listen unix .*gvproxy\.sock: bind: address already in use/);
    await relays?.close();
    relays = undefined;
  });
}

test.run();
