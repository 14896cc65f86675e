// The real Linux jail: bwrap + relay-inside + host relays, with a stand-in
// for gvproxy (test/jail-probe.ts) that reports what it can reach from inside.
// Nothing here sends a packet to a non-loopback address: the jail's lack of
// other networks is read from its interface list and routing tables.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  detectJail,
  jailCommand,
  jailScripts,
  startHostRelays,
  type AvailableJail,
  type HostRelays,
} from "../src/backends/smolmachines/jail/index.js";
import { skipSuite } from "./helpers/skip.js";

const PROBE = fileURLToPath(new URL("./jail-probe.js", import.meta.url));
const SAFETY_MS = 15_000;

interface FakeSidecar {
  port: number;
  server: Server;
  /** Connections accepted so far. */
  accepted: number;
  connections: Set<Socket>;
  /** Resolves when the next connection opens, or the next one closes. */
  next(event: "open" | "close"): Promise<void>;
}

/** A host loopback server that answers `<name>:<what it read>` once the client half-closes. */
async function startSidecar(name: string): Promise<FakeSidecar> {
  const waiters = { open: [] as (() => void)[], close: [] as (() => void)[] };
  const wake = (event: "open" | "close"): void => {
    for (const resolve of waiters[event].splice(0)) resolve();
  };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sidecar.accepted += 1;
    sidecar.connections.add(socket);
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () => socket.end(`${name}:${data}`));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      sidecar.connections.delete(socket);
      wake("close");
    });
    wake("open");
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const sidecar: FakeSidecar = {
    port: (server.address() as AddressInfo).port,
    server,
    accepted: 0,
    connections: new Set(),
    next: (event) => new Promise((resolve) => waiters[event].push(resolve)),
  };
  return sidecar;
}

function stopServer(sidecar: FakeSidecar): Promise<void> {
  for (const socket of sidecar.connections) socket.destroy();
  return new Promise((resolve) => sidecar.server.close(() => resolve()));
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = SAFETY_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Collects a stream's lines; `line(predicate)` waits for the first match. */
function lineReader(stream: Readable): { lines: string[]; line(match: (line: string) => boolean, what: string): Promise<string>; ended: Promise<void> } {
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const ended = new Promise<void>((resolve) => stream.on("end", resolve));
  return {
    lines,
    ended,
    line(match, what) {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return withTimeout(new Promise((resolve) => waiters.push({ match, resolve })), what);
    },
  };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Parent pid of each live process, from /proc/<pid>/stat. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

function descendants(root: number): number[] {
  const parents = parentPids();
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Gone, a zombie, or past the point in exit where it dropped its files. */
function isDead(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return true;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  if (state === "Z" || state === "X") return true;
  try {
    return readdirSync(`/proc/${pid}/fd`).length === 0;
  } catch {
    return false;
  }
}

interface World {
  support: AvailableJail;
  dir: string;
  runDir: string;
  s1: FakeSidecar;
  s2: FakeSidecar;
  /** Listening on the host, but not a sidecar. */
  t: FakeSidecar;
  relays: HostRelays;
  children: ChildProcess[];
}

let world: World | undefined;

function spawnJail(w: World, inner: string[]): ChildProcess {
  const { command, args } = jailCommand({
    support: w.support,
    runDir: w.runDir,
    ports: [w.s1.port, w.s2.port],
    inner,
    nodePath: process.execPath,
    ...jailScripts(),
  });
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  w.children.push(child);
  return child;
}

const support = await detectJail();

if (support.kind !== "bwrap") {
  const why = support.kind === "unavailable" ? `${support.reason}; ${support.fix}` : `this host uses ${support.kind}`;
  skipSuite("jail-isolation", why);
} else {
  test.before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "bj-"));
    const runDir = join(dir, "run");
    await mkdir(runDir, { mode: 0o700 });
    const [s1, s2, t] = await Promise.all([startSidecar("S1"), startSidecar("S2"), startSidecar("T")]);
    const relays = await startHostRelays({ runDir, ports: [s1.port, s2.port] });
    world = { support, dir, runDir, s1, s2, t, relays, children: [] };
  });

  test.after(async () => {
    if (!world) return;
    for (const child of world.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await world.relays.close();
    await Promise.all([stopServer(world.s1), stopServer(world.s2), stopServer(world.t)]);
    await rm(world.dir, { recursive: true, force: true });
  });

  interface Findings {
    pid: number;
    ppid: number;
    sidecars: Record<string, { reply?: string; error?: string }>;
    closed: Record<string, { reply?: string; error?: string }>;
    interfaces: string[];
    ipv4RouteDevices: string[];
    ipv6RouteDevices: string[];
    capEff?: string;
    writeOutside: { ok: boolean; error?: string };
    writeInside: { ok: boolean; error?: string };
  }

  let report: { findings: Findings; code: number | null; stderr: string } | undefined;

  /** One jailed probe run shared by the findings tests below. */
  async function probeReport(): Promise<NonNullable<typeof report>> {
    if (report) return report;
    const w = world!;
    const child = spawnJail(w, [
      process.execPath,
      PROBE,
      "report",
      "--run",
      w.runDir,
      "--outside",
      join(w.dir, "outside.txt"),
      "--sidecar",
      String(w.s1.port),
      "--sidecar",
      String(w.s2.port),
      "--closed",
      String(w.t.port),
      "--exit",
      "7",
    ]);
    const out = lineReader(child.stdout!);
    const err = lineReader(child.stderr!);
    const exit = exited(child);
    const line = await out.line((l) => l.startsWith("{"), "the probe's findings").catch((error: Error) => {
      throw new Error(`${error.message}\nstderr:\n${err.lines.join("\n")}`);
    });
    const { code } = await withTimeout(exit, "the jail to exit");
    report = { findings: JSON.parse(line) as Findings, code, stderr: err.lines.join("\n") };
    return report;
  }

  test("inside the jail, each sidecar port reaches its own host sidecar through the relay", async () => {
    const { findings } = await probeReport();
    const w = world!;
    assert.equal(findings.sidecars[String(w.s1.port)], { reply: "S1:ping" });
    assert.equal(findings.sidecars[String(w.s2.port)], { reply: "S2:ping" });
  });

  test("inside the jail, a port the host really listens on but is not a sidecar is refused", async () => {
    const { findings } = await probeReport();
    const w = world!;
    assert.equal(findings.closed[String(w.t.port)], { error: "ECONNREFUSED" });
    assert.is(w.t.accepted, 0);
  });

  test("the jail's network namespace has only lo, and every route goes through lo", async () => {
    const { findings } = await probeReport();
    assert.equal(findings.interfaces, ["lo"]);
    assert.ok(findings.ipv4RouteDevices.every((dev) => dev === "lo"), `IPv4 routes: ${findings.ipv4RouteDevices.join(", ")}`);
    assert.ok(findings.ipv6RouteDevices.every((dev) => dev === "lo"), `IPv6 routes: ${findings.ipv6RouteDevices.join(", ")}`);
  });

  test("the jail's root is read-only and its run dir writable", async () => {
    const { findings } = await probeReport();
    const w = world!;
    assert.equal(findings.writeOutside, { ok: false, error: "EROFS" });
    assert.not.ok(existsSync(join(w.dir, "outside.txt")));
    assert.equal(findings.writeInside, { ok: true });
    assert.is(readFileSync(join(w.runDir, "inside.txt"), "utf8"), "written from the jail\n");
  });

  test("the jail holds no capabilities, even when bottle runs as root", async () => {
    const { findings } = await probeReport();
    assert.is(findings.capEff, "0000000000000000");
  });

  test("relay-inside is the jail's pid 1 and the command runs under it", async () => {
    const { findings } = await probeReport();
    assert.is(findings.ppid, 1);
    assert.is.not(findings.pid, 1);
  });

  test("the command's exit code passes through relay-inside, bwrap and the launcher", async () => {
    const { code, stderr } = await probeReport();
    assert.is(code, 7, stderr);
  });

  test("SIGTERM to the jail process reaches the command inside", async () => {
    const child = spawnJail(world!, [process.execPath, PROBE, "wait-signal"]);
    const out = lineReader(child.stdout!);
    const exit = exited(child);
    await out.line((l) => l === "ready", "the probe to be ready");
    child.kill("SIGTERM");
    const { code } = await withTimeout(exit, "the jail to exit after SIGTERM");
    await withTimeout(out.ended, "the jail's stdout to close");
    assert.ok(out.lines.includes("got SIGTERM"), `stdout: ${out.lines.join(" | ")}`);
    assert.is(code, 42);
  });

  test("killing the jail's parent kills the whole jail", async () => {
    const w = world!;
    const { command, args } = jailCommand({
      support: w.support,
      runDir: w.runDir,
      ports: [w.s1.port, w.s2.port],
      inner: [process.execPath, PROBE, "hold", "--sidecar", String(w.s1.port)],
      nodePath: process.execPath,
      ...jailScripts(),
    });
    const held = w.s1.next("open");
    // A stand-in for bottle: starts the jail, says its pid, and waits.
    const parentScript = [
      'import { spawn } from "node:child_process";',
      "const [command, ...args] = JSON.parse(process.env.JAIL_ARGV);",
      'const jail = spawn(command, args, { stdio: "inherit" });',
      'process.stdout.write(JSON.stringify({ jail: jail.pid }) + "\\n");',
      "setInterval(() => {}, 60_000);",
    ].join("\n");
    const parent = spawn(process.execPath, ["--input-type=module", "-e", parentScript], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, JAIL_ARGV: JSON.stringify([command, ...args]) },
    });
    w.children.push(parent);
    const out = lineReader(parent.stdout!);
    const jailPid = (JSON.parse(await out.line((l) => l.startsWith("{"), "the jail's pid")) as { jail: number }).jail;
    await out.line((l) => l === "ready", "the probe to connect");
    await withTimeout(held, "the probe's connection to reach S1 through the relay");
    const heldClosed = w.s1.next("close");

    const jailProcesses = [jailPid, ...descendants(jailPid)];
    // launcher, bwrap, relay-inside (pid 1 inside), the probe
    assert.ok(jailProcesses.length >= 4, `jail processes: ${jailProcesses.join(", ")}`);

    parent.kill("SIGKILL");
    // Every jail process shares the parent's stdout pipe: it ends when the last one is gone.
    await withTimeout(out.ended, "every jail process to close the shared stdout");
    await withTimeout(heldClosed, "the relayed connection to S1 to close");
    const survivors = jailProcesses.filter((pid) => !isDead(pid));
    assert.equal(survivors, [], `still running: ${survivors.join(", ")}`);
  });
}

test.run();
