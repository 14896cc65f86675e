// The escape acceptance suite: launches a real bottle (real gvproxy in the
// real jail, real gvforwarder in the namespace machine, the real pipelock)
// whose agent is the probe, answers the
// probe's two handshakes, and checks from the host what must never have
// arrived. Returns the table; the caller prints it or asserts on it.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, watch, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/fakes.js";
import { makeUpstreamRepo, plainGitEnv, startUpstream, type Upstream } from "../helpers/git-upstream.js";
import { BOTTLE_MAIN } from "../helpers/lifecycle.js";
import { NSVM_BIN, realNetworkTools, type RealNetworkTools } from "../helpers/real-tools.js";
import { makeTestCa } from "../helpers/test-ca.js";
import { decodeAnswer, encodeQuery } from "./dns-wire.js";
import { DIRECT_MARKER, DONE_LINE, ERROR_PREFIX, RESULT_PREFIX, STEPS, type ProbeResult, type Step } from "./probe-protocol.js";
import { buildRows, type HostCheck, type Row } from "./rows.js";
import { inPrivateMounts, makeWorld, type World } from "./world.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const PROBE_FILES = ["probe.js", "dns-wire.js", "probe-protocol.js"];
const NAME = "acceptance";
const ALLOWED = "allowed.test";
const BLOCKED = "blocked.test";
/** On the allowlist every bottle had before presets (issue 19); the test world serves it, so only pipelock can refuse it. */
const OLD_DEFAULT = "sentry.io";
const EXFIL = "exfil.test";
const PASSTHROUGH = "pinned.test";
const INJECTED_HOST = "inject.test";
const LAUNCH_TIMEOUT_MS = 240_000;

export interface AcceptanceReport {
  rows: Row[];
  /** What ran: the real tools' paths. */
  tools: Record<string, string>;
  /** From `bottle launch` to the probe's first line. */
  launchToAgentMs: number | null;
  exitCode: number | null;
  /** bottle's own output, for a failure's diagnosis. */
  output: string;
}

export type AcceptanceOutcome = AcceptanceReport | { skipped: string };

/**
 * What `bottle launch` runs with under `root`: its own XDG dirs, and a bin/
 * first on PATH where smolvm is the namespace machine, gvproxy and pipelock
 * the real ones.
 */
export function launchEnv(root: string, tools: RealNetworkTools, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const bin = join(root, "bin");
  mkdirSync(bin);
  symlinkSync(join(NSVM_BIN, "smolvm"), join(bin, "smolvm"));
  symlinkSync(tools.gvproxy, join(bin, "gvproxy"));
  symlinkSync(tools.pipelock, join(bin, "pipelock"));
  const home = { XDG_RUNTIME_DIR: join(root, "r"), XDG_STATE_HOME: join(root, "s"), XDG_CACHE_HOME: join(root, "c") };
  for (const dir of Object.values(home)) mkdirSync(dir, { mode: 0o700 });
  return { ...process.env, ...home, PATH: `${bin}:${process.env.PATH}`, FAKES_STATE: join(root, "f"), ...extra };
}

/** The guest runs the agent's scripts from the workspace (the host's /tmp and homes are not in the guest). */
export function installAgentScripts(workspace: string, files: readonly string[]): void {
  const dir = join(workspace, ".probe");
  mkdirSync(dir, { recursive: true });
  for (const file of files) copyFileSync(join(here, file), join(dir, file));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
}

function writeConfig(projectDir: string, env: Record<string, string>, allow: string[], gvforwarder: string): void {
  const egress = { allow, passthrough: [PASSTHROUGH] };
  const config = {
    name: NAME,
    image: "debian:bookworm-slim",
    agent: {
      command: ["node", "/workspace/.probe/probe.js"],
      env,
      secrets: {
        CANARY: { fromEnv: "BOTTLE_ACCEPTANCE_CANARY" },
        INJECTED_KEY: { fromEnv: "BOTTLE_ACCEPTANCE_INJECTED", inject: { host: INJECTED_HOST, header: "x-api-key", baseUrlEnv: "PROBE_INJECT_BASE_URL" } },
      },
    },
    workspace: { host: "./ws", guest: "/workspace" },
    egress: { ...egress, presets: ["claude-code"] },
    gitGate: { remotes: { origin: { url: env.PROBE_GIT_URL!, token: { fromEnv: "BOTTLE_ACCEPTANCE_GIT_TOKEN" }, push: ["agent/*"] } } },
    guest: { gvforwarder },
  };
  writeFileSync(join(projectDir, "bottle.config.ts"), `export default ${JSON.stringify(config, null, 2)};\n`);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

/** Whether anything on the host answers 127.0.0.1:port (it must not). */
function hostConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function hostDnsQuery(server: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => finish(false), 5000);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    socket.on("message", (message) => finish(decodeAnswer(message).id === 7));
    socket.send(encodeQuery(7, name, "TXT"), 53, server);
  });
}

function pipelockPid(runDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(runDir, "supervisor.json"), "utf8")) as { children: Record<string, { pid: number }> }).children.pipelock?.pid;
  } catch {
    return undefined;
  }
}

export interface AcceptanceOptions {
  /** Launch with --unsafe-no-jail: the suite must then fail (it proves the suite can). */
  unsafeNoJail?: boolean;
}

export async function runAcceptance(options: AcceptanceOptions = {}): Promise<AcceptanceOutcome> {
  const tools = realNetworkTools();
  if ("missing" in tools) return { skipped: tools.missing };
  // Short: the run dir under it holds unix sockets.
  const root = mkdtempSync("/tmp/bacc-");
  let world: World | undefined;
  // Two host loopback listeners that must see nothing: one the probe asks the proxy for, one it dials through the gateway's NAT.
  const connections = { proxy: 0, nat: 0 };
  const listener = (key: keyof typeof connections) =>
    createServer((socket) => {
      connections[key]++;
      socket.destroy();
    });
  const loopback = listener("proxy");
  const natListener = listener("nat");
  let upstream: Upstream | undefined;
  try {
    // The test host's HTTPS certificate is from a test CA: pipelock trusts it through SSL_CERT_FILE (below).
    const names = [ALLOWED, BLOCKED, OLD_DEFAULT, PASSTHROUGH, INJECTED_HOST];
    const testCa = makeTestCa(root, names);
    world = await makeWorld(root, names, testCa);
    const resolverWorks = await hostDnsQuery(world.address, `control.${EXFIL}`);
    const loopbackPort = await listen(loopback);
    const natPort = await listen(natListener);
    const exposePort = await freePort();
    const projectDir = join(root, "p");
    installAgentScripts(join(projectDir, "ws"), PROBE_FILES);
    copyFileSync(testCa.caCert, join(projectDir, "ws", ".probe", "test-ca.pem"));
    const syncDir = join(projectDir, "ws", ".sync");
    mkdirSync(syncDir);
    // The git upstream: smart HTTP on host loopback, requiring its token (only the gate on the host holds it).
    const gitToken = `tok-${randomBytes(18).toString("base64url")}`;
    const gitRoot = join(root, "git-upstream");
    mkdirSync(gitRoot);
    const gitEnv = plainGitEnv(gitRoot);
    const upstreamRepo = makeUpstreamRepo(gitRoot, "app", gitEnv);
    upstream = await startUpstream(gitRoot, gitToken, gitEnv);
    const agentEnv = {
      PROBE_GIT_URL: upstream.url("app"),
      PROBE_UPSTREAM_IP: world.address,
      PROBE_ALLOWED_HOST: ALLOWED,
      PROBE_BLOCKED_HOST: BLOCKED,
      PROBE_OLD_DEFAULT_HOST: OLD_DEFAULT,
      // What the claude-code preset expects of Claude Code (without it bottle warns).
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      PROBE_LOOPBACK_PORT: String(loopbackPort),
      PROBE_NAT_PORT: String(natPort),
      PROBE_EXPOSE_PORT: String(exposePort),
      PROBE_EXFIL_DOMAIN: EXFIL,
      PROBE_SYNC_DIR: "/workspace/.sync",
      PROBE_PASSTHROUGH_HOST: PASSTHROUGH,
      PROBE_TEST_CA: "/workspace/.probe/test-ca.pem",
    };
    writeConfig(projectDir, agentEnv, [ALLOWED], tools.gvforwarder);
    const canary = `bac-${randomBytes(24).toString("base64url")}`;
    // An API key's shape: pipelock's own rules know it, which is why the guest must only ever hold a placeholder.
    const injectedValue = `sk-ant-api03-${randomBytes(32).toString("base64url")}`;
    const env = launchEnv(root, tools, { BOTTLE_ACCEPTANCE_CANARY: canary, BOTTLE_ACCEPTANCE_INJECTED: injectedValue, BOTTLE_ACCEPTANCE_GIT_TOKEN: gitToken, SSL_CERT_FILE: testCa.bundle });
    const runDir = join(env.XDG_RUNTIME_DIR!, "bottle", NAME);

    const [command, ...args] = inPrivateMounts(world, [process.execPath, BOTTLE_MAIN, "launch", "--watch", ...(options.unsafeNoJail ? ["--unsafe-no-jail"] : [])]);
    const started = Date.now();
    const child = spawn(command!, args, { cwd: projectDir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    let stderr = "";
    let launchToAgentMs: number | null = null;
    const results = new Map<string, ProbeResult>();
    const hostChecks = new Map<string, HostCheck>();
    let stdoutRest = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stdoutRest += chunk.toString();
      const lines = stdoutRest.split("\n");
      stdoutRest = lines.pop() ?? "";
      for (const line of lines) {
        const text = line.replace(/\r$/, "");
        if (text.startsWith(RESULT_PREFIX)) {
          launchToAgentMs ??= Date.now() - started;
          const result = JSON.parse(text.slice(RESULT_PREFIX.length)) as ProbeResult;
          results.set(result.id, result);
        }
      }
    });
    const stderrWaiters: { pattern: RegExp; resolve: () => void }[] = [];
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stderr += chunk.toString();
      for (const waiter of [...stderrWaiters]) {
        if (waiter.pattern.test(stderr)) {
          stderrWaiters.splice(stderrWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
    const stderrLine = (pattern: RegExp) => new Promise<void>((resolve) => (pattern.test(stderr) ? resolve() : stderrWaiters.push({ pattern, resolve })));

    const answer = async (step: Step): Promise<void> => {
      switch (step) {
        case "exposed": {
          const seen = await hostConnect(exposePort);
          hostChecks.set("gateway-api-expose", { ok: seen !== "connected", note: `host 127.0.0.1:${exposePort}: ${seen}` });
          return;
        }
        case "git-secret": {
          gitMark = upstream!.requests.length;
          return;
        }
        case "edit-allowlist": {
          const before = pipelockPid(runDir);
          writeConfig(projectDir, agentEnv, [ALLOWED, BLOCKED], tools.gvforwarder);
          // watch says "applied live" only once pipelock's log shows the new config loaded.
          await stderrLine(/applied live|NOT applied|NOT known to be applied/);
          const after = pipelockPid(runDir);
          hostChecks.set("live-allowlist-edit", { ok: before !== undefined && before === after, note: `pipelock pid ${before} before, ${after} after` });
          return;
        }
      }
    };
    let gitMark: number | undefined;
    const handled = new Set<string>();
    const syncWatcher = watch(syncDir, () => {
      for (const step of STEPS) {
        if (handled.has(step) || !existsSync(join(syncDir, `${step}.ready`))) continue;
        handled.add(step);
        void answer(step).finally(() => writeFileSync(join(syncDir, `${step}.go`), "go"));
      }
    });

    const exitCode = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        output += `\n(acceptance: killed bottle launch after ${LAUNCH_TIMEOUT_MS / 1000} s)\n`;
        killGroup(child.pid!);
      }, LAUNCH_TIMEOUT_MS);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    syncWatcher.close();
    if (!output.includes(DONE_LINE)) {
      const error = output.split("\n").find((l) => l.startsWith(ERROR_PREFIX));
      if (error) output += `\n(probe: ${error})\n`;
    }

    // What only the host can see.
    const entries = world.entries();
    const http = entries.filter((e) => e.kind === "http" || e.kind === "https");
    const carries = (e: Record<string, unknown>) => JSON.stringify(e).includes(canary);
    const leaked = http.filter(carries).length;
    for (const id of ["dlp-path", "dlp-query", "dlp-header", "dlp-body", "https-dlp-path", "https-dlp-query", "https-dlp-header", "https-dlp-body", "https-dlp-multipart", "inject-dlp"]) {
      hostChecks.set(id, { ok: leaked === 0, note: leaked ? `the test host received the canary ${leaked} time(s)` : "test host: no request carried the canary" });
    }
    const direct = entries.filter((e) => e.kind === "tcp" && String(e.first).startsWith(DIRECT_MARKER)).length;
    hostChecks.set("direct-tcp", { ok: direct === 0, note: `test host: ${direct} direct connection(s)` });
    const udp = entries.filter((e) => e.kind === "udp").length;
    hostChecks.set("direct-udp", { ok: udp === 0, note: `test host: ${udp} datagram(s)` });
    hostChecks.set("proxy-host-loopback", { ok: connections.proxy === 0, note: `loopback listener: ${connections.proxy} connection(s)` });
    hostChecks.set("gateway-nat-loopback", { ok: connections.nat === 0, note: `loopback listener: ${connections.nat} connection(s)` });
    const blockedHits = http.filter((e) => (e.headers as Record<string, string>)?.host?.startsWith(BLOCKED) && e.url !== "/after-edit").length;
    hostChecks.set("proxy-not-allowlisted", { ok: blockedHits === 0, note: `test host: ${blockedHits} request(s) for ${BLOCKED}` });
    const oldDefaultHits = http.filter((e) => (e.headers as Record<string, string>)?.host?.startsWith(OLD_DEFAULT)).length;
    hostChecks.set("proxy-old-default-host", { ok: oldDefaultHits === 0, note: `test host: ${oldDefaultHits} request(s) for ${OLD_DEFAULT}` });
    const literalHits = http.filter((e) => (e.headers as Record<string, string>)?.host?.startsWith(world!.address)).length;
    hostChecks.set("proxy-ip-literal", { ok: literalHits === 0, note: `test host: ${literalHits} request(s) by IP` });
    const dnsNames = entries.filter((e) => e.kind === "dns").map((e) => String(e.name));
    const label = Buffer.from(canary).toString("hex").slice(0, 60);
    const exfil = dnsNames.filter((n) => n.includes(label) && !n.startsWith("direct-")).length;
    hostChecks.set("dns-exfil-non-a", { ok: exfil === 0 && resolverWorks, note: `test resolver: ${exfil} crafted quer(ies); it answered the harness's control query: ${resolverWorks ? "yes" : "NO"}` });
    const directDns = dnsNames.filter((n) => n.startsWith("direct-")).length;
    hostChecks.set("dns-direct-resolver", { ok: directDns === 0, note: `test resolver: ${directDns} direct quer(ies)` });
    const pushedAfterMark = gitMark === undefined ? [] : upstream.pushesSince(gitMark);
    hostChecks.set("git-push-secret", {
      ok: gitMark !== undefined && pushedAfterMark.length === 0,
      note: gitMark === undefined ? "the probe never reached the secret push" : `upstream: ${pushedAfterMark.length} receive-pack request(s) after the secret push began`,
    });
    const landed = spawnSync("git", ["--git-dir", upstreamRepo, "rev-parse", "--verify", "--quiet", "refs/heads/agent/ok"], { env: gitEnv }).status === 0;
    hostChecks.set("git-push-allowed", { ok: landed, note: `upstream has agent/ok: ${landed ? "yes" : "no"}` });
    const helloBody = `hello from ${ALLOWED} ${world.nonce} /hello`;
    hostChecks.set("allowed-host", { ok: results.get("allowed-host")?.observed.includes(helloBody) ?? false, note: `expected body "${helloBody}"` });
    const keyOf = (e: Record<string, unknown>) => (e.headers as Record<string, string>)["x-api-key"];
    const atInjected = http.filter((e) => (e.headers as Record<string, string>).host === INJECTED_HOST);
    const swappedSeen = atInjected.filter((e) => e.url === "/v1/messages");
    hostChecks.set("inject-placeholder-swapped", {
      ok: swappedSeen.length === 1 && keyOf(swappedSeen[0]!) === injectedValue && swappedSeen[0]!.kind === "https",
      note: `${INJECTED_HOST} got ${swappedSeen.length} request(s)${swappedSeen.length ? `, x-api-key ${keyOf(swappedSeen[0]!) === injectedValue ? "= the real value" : "≠ the real value"}` : ""}`,
    });
    hostChecks.set("inject-own-key-refused", { ok: !atInjected.some((e) => String(keyOf(e)).startsWith("sk-own-key")), note: `${INJECTED_HOST}: no request carried the made-up key` });
    const dumpPath = join(syncDir, "guest-dump.json");
    const dump = existsSync(dumpPath) ? readFileSync(dumpPath, "utf8") : "";
    const held = [...new Set([...dump.matchAll(/"([^"]+)":/g)].map((m) => m[1]!))].filter((key) => (JSON.parse(dump) as Record<string, string>)[key]?.includes(injectedValue));
    // Nor the name pipelock reaches the injector by: whoever knows it can make pipelock dial this host's loopback.
    const probeSaw = [...results.values()].map((r) => r.observed).join("\n");
    const nameSeen = dump.includes(".inject.bottle.invalid") || probeSaw.includes(".inject.bottle.invalid");
    hostChecks.set("inject-guest-never-holds", {
      ok: dump !== "" && held.length === 0 && !dump.includes(injectedValue) && !nameSeen,
      note: dump === "" ? "the probe never handed over its dump" : held.length ? `the value is in: ${held.join(", ")}` : `the value is in none of ${Object.keys(JSON.parse(dump) as object).length} place(s); the injector's name ${nameSeen ? "WAS" : "was not"} seen by the guest`,
    });
    const elsewhereSeen = http.filter((e) => e.url === "/placeholder-elsewhere");
    hostChecks.set("inject-placeholder-elsewhere", {
      ok: elsewhereSeen.length === 1 && String(keyOf(elsewhereSeen[0]!)).startsWith("bottle-placeholder."),
      note: `${ALLOWED} got x-api-key: ${elsewhereSeen.length ? String(keyOf(elsewhereSeen[0]!)).slice(0, 30) : "nothing"}…; the value never: ${http.some((e) => JSON.stringify(e).includes(injectedValue) && e.url !== "/v1/messages") ? "NO" : "yes"}`,
    });
    const pinnedSeen = http.filter((e) => e.kind === "https" && e.url === "/pinned").length;
    hostChecks.set("https-passthrough", { ok: pinnedSeen === 1, note: `test host: ${pinnedSeen} HTTPS request(s) for /pinned` });
    const tlsHello = http.filter((e) => e.kind === "https" && (e.url === "/hello-tls" || e.url === "/hello-curl")).length;
    hostChecks.set("https-intercepted", { ok: tlsHello >= 1, note: `test host: ${tlsHello} HTTPS control request(s) arrived` });
    const afterBody = `hello from ${BLOCKED} ${world.nonce} /after-edit`;
    const live = hostChecks.get("live-allowlist-edit");
    hostChecks.set("live-allowlist-edit", {
      ok: (live?.ok ?? false) && (results.get("live-allowlist-edit")?.observed.includes(afterBody) ?? false),
      note: live?.note ?? "the edit step never ran",
    });

    return {
      rows: buildRows(results, hostChecks),
      tools: { gvproxy: tools.gvproxy, gvforwarder: tools.gvforwarder, pipelock: tools.pipelock, smolvm: "namespace machine (test/nsvm)" },
      launchToAgentMs,
      exitCode,
      output,
    };
  } finally {
    await upstream?.close();
    loopback.close();
    natListener.close();
    world?.close();
    spawnSync(join(NSVM_BIN, "smolvm"), ["machine", "delete", "--name", `bottle-${NAME}`, "-f"], { env: { ...process.env, FAKES_STATE: join(root, "f") }, stdio: "ignore" });
    // BOTTLE_ACCEPTANCE_KEEP=1 keeps the run's files (logs, stage, the test host's record) to read after a failure.
    if (process.env.BOTTLE_ACCEPTANCE_KEEP) process.stderr.write(`acceptance: kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // gone
  }
}
