// The real Linux jail: bwrap + relay-inside + host relays, with a stand-in
// for gvproxy (test/jail-probe.ts) that reports what it can reach from inside.
// Nothing here sends a packet to a non-loopback address: the jail's lack of
// other networks is read from its interface list and routing tables.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  detectJail,
  handOverJailDir,
  JAIL_GID,
  JAIL_UID,
  jailCommand,
  jailCredentials,
  jailFileSystem,
  jailLayout,
  jailScripts,
  prepareJailDir,
  ROOT_JAIL_USER,
  startHostRelays,
  type AvailableJail,
  type HostRelays,
  type JailCommand,
} from "../src/backends/smolmachines/jail/index.js";
import { withTimeout } from "./helpers/process.js";
import { underJailParent } from "./helpers/jail.js";
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

function within<T>(promise: Promise<T>, what: string, ms = SAFETY_MS): Promise<T> {
  return withTimeout(promise, what, ms);
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
      return within(new Promise((resolve) => waiters.push({ match, resolve })), what);
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
  jailDir: string;
  s1: FakeSidecar;
  s2: FakeSidecar;
  /** Listening on the host, but not a sidecar. */
  t: FakeSidecar;
  relays: HostRelays;
  /** What a compromised gvproxy would go for: bottle's control socket and launch record, other programs' sockets and files. */
  bait: Bait;
  children: ChildProcess[];
}

interface Bait {
  control: string;
  record: string;
  /** Unix sockets outside the jail dir: under /tmp, the home dir and (when writable) /run. */
  sockets: string[];
  /** Secret files outside the jail dir: under /tmp and the home dir. */
  secrets: string[];
  servers: Server[];
  /** Connections any bait socket accepted. */
  accepted: number;
  dirs: string[];
}

const CANARY_VAR = "BOTTLE_JAIL_CANARY";
const CANARY_VALUE = `canary-${process.pid}-${Date.now()}`;
const RECORD_TEXT = '{"children":{}}\n';

let world: World | undefined;

/** A unix socket server at `path` that counts the connections it accepts. */
async function baitSocket(bait: Bait, path: string): Promise<void> {
  const server = createServer((socket) => {
    bait.accepted += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
  bait.servers.push(server);
}

/** A fresh directory under `parent`, or undefined when this user cannot write there. */
async function baitDir(parent: string): Promise<string | undefined> {
  try {
    return await mkdtemp(join(parent, "bottle-jail-bait-"));
  } catch {
    return undefined;
  }
}

async function layBait(runDir: string): Promise<Bait> {
  const bait: Bait = { control: join(runDir, "control.sock"), record: join(runDir, "supervisor.json"), sockets: [], secrets: [], servers: [], accepted: 0, dirs: [] };
  await writeFile(bait.record, RECORD_TEXT, { mode: 0o600 });
  await baitSocket(bait, bait.control);
  for (const parent of [tmpdir(), homedir(), "/run"]) {
    const dir = await baitDir(parent);
    if (dir === undefined) continue;
    bait.dirs.push(dir);
    const socket = join(dir, "agent.sock");
    await baitSocket(bait, socket);
    bait.sockets.push(socket);
    if (parent === "/run") continue;
    const secret = join(dir, "id_ed25519");
    await writeFile(secret, "not for the jail\n", { mode: 0o600 });
    bait.secrets.push(secret);
  }
  return bait;
}

function jailFor(w: World, inner: string[]): JailCommand {
  return jailCommand({
    support: w.support,
    runDir: w.runDir,
    ports: [w.s1.port, w.s2.port],
    inner,
    ...jailScripts(),
    fileSystem: jailFileSystem({ nodePath: process.execPath, files: [] }),
  });
}

/**
 * The jail under a stand-in for bottle (helpers/jail-parent.ts).
 * `wrapper` runs first and execs or spawns that parent (its argv follows
 * the wrapper's own). `inherited`: descriptors of this process the parent
 * gets at those numbers, as a shell would leave them open.
 */
function spawnJail(w: World, inner: string[], wrapper: readonly string[] = [], inherited: Record<number, number> = {}): ChildProcess {
  // The parent has the whole environment, secrets and all, as bottle does.
  const [program, ...rest] = [...wrapper, ...underJailParent(jailFor(w, inner))];
  const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe"];
  for (const [at, fd] of Object.entries(inherited)) {
    while (stdio.length < Number(at)) stdio.push("ignore");
    stdio[Number(at)] = fd;
  }
  const child = spawn(program!, rest, { stdio, env: { ...process.env, [CANARY_VAR]: CANARY_VALUE } });
  w.children.push(child);
  return child;
}

const support = await detectJail();

if (support.kind !== "bwrap") {
  const why = support.kind === "unavailable" ? `${support.reason}; ${support.fix}` : `this host uses ${support.kind}`;
  skipSuite("jail-isolation", why);
} else {
  test.before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "bj-jail-"));
    const runDir = join(dir, "run");
    await mkdir(runDir, { mode: 0o700 });
    const { dir: jailDir } = prepareJailDir(runDir);
    const [s1, s2, t] = await Promise.all([startSidecar("S1"), startSidecar("S2"), startSidecar("T")]);
    const relays = await startHostRelays({ runDir, ports: [s1.port, s2.port] });
    handOverJailDir(jailLayout(runDir), jailCredentials(process.getuid!()));
    const bait = await layBait(runDir);
    world = { support, dir, runDir, jailDir, s1, s2, t, relays, bait, children: [] };
  });

  test.after(async () => {
    if (!world) return;
    for (const child of world.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await world.relays.close();
    await Promise.all([stopServer(world.s1), stopServer(world.s2), stopServer(world.t)]);
    await Promise.all(world.bait.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const dir of world.bait.dirs) await rm(dir, { recursive: true, force: true });
    await rm(world.dir, { recursive: true, force: true });
  });

  interface Attempt {
    ok: boolean;
    error?: string;
  }

  interface Findings {
    pid: number;
    ppid: number;
    uid: number;
    gid: number;
    uidMap: number[];
    environ: string[] | string;
    relayEnviron: string[] | string;
    sidecars: Record<string, { reply?: string; error?: string }>;
    closed: Record<string, { reply?: string; error?: string }>;
    interfaces: string[];
    ipv4RouteDevices: string[];
    ipv6RouteDevices: string[];
    capEff?: string;
    newUserNamespace: { status: number | null; stderr: string };
    reads: Record<string, Attempt>;
    writes: Record<string, Attempt>;
    opensForWriting: Record<string, Attempt>;
    removes: Record<string, Attempt>;
    renames: Record<string, Attempt>;
    connects: Record<string, Attempt>;
  }

  let report: { findings: Findings; code: number | null; stderr: string } | undefined;

  /** Kernel interfaces a jail able to write them would use against the host (issue 15, point 1): opened for writing, never written. */
  const KERNEL_SETTINGS = [
    "/proc/sys/kernel/core_pattern", // `|<program>`: the kernel runs it as root, in the host's namespaces, on a crash
    "/proc/sys/kernel/modprobe",
    "/proc/sys/kernel/panic",
    "/proc/sys/vm/drop_caches",
    "/proc/sys/fs/binfmt_misc/register",
    "/proc/sys/net/ipv4/ip_forward",
    "/proc/sysrq-trigger",
    "/proc/mtrr",
    "/proc/pressure/cpu",
  ];

  const outsideFile = (w: World): string => join(w.dir, "outside.txt");
  const insideFile = (w: World): string => join(w.jailDir, "inside.txt");
  const relayDir = (w: World): string => join(w.jailDir, "relays");
  const plantedRelay = (w: World): string => join(relayDir(w), "planted.sock");

  /** One jailed probe run shared by the findings tests below. */
  async function probeReport(): Promise<NonNullable<typeof report>> {
    if (report) return report;
    const w = world!;
    const each = (flag: string, values: readonly string[]): string[] => values.flatMap((value) => [flag, value]);
    const child = spawnJail(w, [
      process.execPath,
      PROBE,
      "report",
      ...each("--sidecar", [String(w.s1.port), String(w.s2.port)]),
      ...each("--closed", [String(w.t.port)]),
      ...each("--read", [w.bait.record, "/etc/shadow", "/etc/passwd", ...w.bait.secrets]),
      ...each("--write", [w.bait.record, outsideFile(w), insideFile(w), "/written-to-root", plantedRelay(w)]),
      ...each("--open-write", KERNEL_SETTINGS),
      ...each("--remove", [w.relays.sockets[0]!]),
      ...each("--rename", [relayDir(w)]),
      ...each("--connect", [w.bait.control, ...w.bait.sockets]),
      "--exit",
      "7",
    ]);
    const out = lineReader(child.stdout!);
    const err = lineReader(child.stderr!);
    const exit = exited(child);
    const line = await out.line((l) => l.startsWith("{"), "the probe's findings").catch((error: Error) => {
      throw new Error(`${error.message}\nstderr:\n${err.lines.join("\n")}`);
    });
    const { code } = await within(exit, "the jail to exit");
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

  test("the jail's root is read-only, the rest of the run dir is not in it, and its jail dir is writable", async () => {
    const { findings } = await probeReport();
    const w = world!;
    assert.equal(findings.writes["/written-to-root"], { ok: false, error: "EROFS" });
    assert.is(findings.writes[outsideFile(w)]?.ok, false);
    assert.not.ok(existsSync(outsideFile(w)));
    assert.equal(findings.writes[insideFile(w)], { ok: true });
    assert.is(readFileSync(insideFile(w), "utf8"), "written from the jail\n");
    // Written as the jail's uid, it belongs outside to the user who started the jail, or to nobody when that is root.
    assert.is(statSync(insideFile(w)).uid, process.getuid!() === 0 ? ROOT_JAIL_USER.uid : process.getuid!());
  });

  test("a compromised gvproxy cannot remove, replace or move the relay sockets, which the host side trusts", async () => {
    const { findings } = await probeReport();
    const w = world!;
    assert.equal(findings.removes[w.relays.sockets[0]!], { ok: false, error: "EROFS" });
    assert.equal(findings.writes[plantedRelay(w)], { ok: false, error: "EROFS" });
    assert.equal(findings.renames[relayDir(w)], { ok: false, error: "EBUSY" });
    assert.ok(statSync(w.relays.sockets[0]!).isSocket());
    assert.not.ok(existsSync(`${relayDir(w)}.moved`));
  });

  test("a compromised gvproxy sees none of the launcher's environment, and neither does the relay", async () => {
    const { findings } = await probeReport();
    assert.equal(findings.environ, [], "gvproxy's place starts with an empty environment");
    if (process.getuid!() === 0) {
      // relay-inside changed its uid, so the kernel made it undumpable: the jail cannot even read it.
      assert.is(findings.relayEnviron, "EACCES");
    } else {
      assert.equal(findings.relayEnviron, ["PWD=/"], "the relay gets only bwrap's PWD");
    }
    assert.not.match(JSON.stringify(findings), CANARY_VALUE);
  });

  test("a compromised gvproxy cannot reach control.sock, nor read or rewrite supervisor.json", async () => {
    const { findings } = await probeReport();
    const { bait } = world!;
    assert.equal(findings.connects[bait.control], { ok: false, error: "ENOENT" });
    assert.equal(findings.reads[bait.record], { ok: false, error: "ENOENT" });
    assert.is(findings.writes[bait.record]?.ok, false);
    assert.is(readFileSync(bait.record, "utf8"), RECORD_TEXT, "the launch record is untouched");
    assert.is(bait.accepted, 0, "no bait socket accepted a connection");
  });

  test("a compromised gvproxy cannot read /etc/shadow, /etc/passwd, or secrets in the home dir and /tmp", async () => {
    const { findings } = await probeReport();
    const { bait } = world!;
    assert.ok(bait.secrets.length >= 2, `secrets laid: ${bait.secrets.join(", ")}`);
    for (const path of ["/etc/shadow", "/etc/passwd", ...bait.secrets]) assert.equal(findings.reads[path], { ok: false, error: "ENOENT" }, path);
  });

  test("a compromised gvproxy cannot connect to other programs' unix sockets (/tmp, the home dir, /run)", async () => {
    const { findings } = await probeReport();
    const { bait } = world!;
    assert.ok(bait.sockets.length >= 2, `sockets laid: ${bait.sockets.join(", ")}`);
    for (const path of bait.sockets) assert.equal(findings.connects[path], { ok: false, error: "ENOENT" }, path);
    assert.is(bait.accepted, 0);
  });

  test("inside the jail, no kernel setting can be opened for writing: /proc/sys and the other writable interfaces are read-only or absent", async () => {
    const { findings } = await probeReport();
    for (const path of KERNEL_SETTINGS) assert.is(findings.opensForWriting[path]?.ok, false, `${path}: ${JSON.stringify(findings.opensForWriting[path])}`);
  });

  test("no process of the jail runs with real uid 0, as the host sees it, even when bottle runs as root", async () => {
    const child = spawnJail(world!, [process.execPath, PROBE, "wait-signal"]);
    const out = lineReader(child.stdout!);
    const exit = exited(child);
    await out.line((l) => l === "ready", "the probe to be ready");
    const ours = readlinkSync("/proc/self/ns/pid");
    const jailed = descendants(child.pid!).filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/pid`) !== ours;
      } catch {
        return false;
      }
    });
    const uids = jailed.map((pid) => /^Uid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]?.split(/\s+/).map(Number) ?? []);
    child.kill("SIGTERM");
    await within(exit, "the jail to exit");
    assert.ok(jailed.length >= 2, `jailed processes (relay-inside, the probe): ${jailed.join(", ")}`);
    const expected = process.getuid!() === 0 ? ROOT_JAIL_USER.uid : process.getuid!();
    // real, effective, saved and file-system uid
    for (const ids of uids) assert.equal(ids, [expected, expected, expected, expected], `uids of a jailed process: ${ids.join(" ")}`);
  });

  test("the jail runs as nobody (in its own user namespace, or as the host's nobody when bottle runs as root) and cannot make a user namespace", async () => {
    const { findings } = await probeReport();
    assert.is(findings.uid, JAIL_UID);
    assert.is(findings.gid, JAIL_GID);
    if (process.getuid!() === 0) {
      // No user namespace of its own: the host's, where nobody is nobody.
      assert.equal(findings.uidMap, [0, 0, 4294967295], `uid_map: ${findings.uidMap.join(" ")}`);
    } else {
      // One uid mapped, the jail's. (The outside column is relative to bwrap's
      // intermediate namespace, so it reads 0 for any user; what the uid is
      // outside shows in the owner of the file the jail wrote, tested above.)
      assert.is(findings.uidMap.length, 3, `uid_map: ${findings.uidMap.join(" ")}`);
      assert.is(findings.uidMap[0], JAIL_UID);
      assert.is(findings.uidMap[2], 1);
    }
    assert.is.not(findings.newUserNamespace.status, 0, `unshare --user succeeded: ${findings.newUserNamespace.stderr}`);
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

  test("the command's exit code passes through relay-inside and bwrap to bwrap's parent", async () => {
    const { code, stderr } = await probeReport();
    assert.is(code, 7, stderr);
  });

  // The launcher's session keyring as pam_keyinit leaves a login's: the user
  // keyring (@u) linked into it, and there a cached password. The wrapper
  // (perl: Node has no keyctl) checks that it reads the password through @s
  // itself, runs the launcher, then says whether the jail planted a key in
  // @s, and removes its key. Arguments: keyctl's and add_key's numbers, the
  // key's description, the password, then the launcher's command line.
  const KEYRING_HOST_PL = String.raw`
use strict;
use warnings;
my ($KEYCTL, $ADD_KEY) = map { 0 + $_ } splice(@ARGV, 0, 2);
my ($description, $secret, @command) = @ARGV;
# syscall passes a string as a pointer to its buffer, which must be writable: no literals.
my ($type, $planted_description) = ("user", "planted-by-jail");
$| = 1;
sub keyctl { return syscall($KEYCTL, @_) }
my $session = keyctl(1, 0);          # KEYCTL_JOIN_SESSION_KEYRING: a new anonymous one
my $user = keyctl(0, -4, 1);         # @u
keyctl(8, $user, $session);          # KEYCTL_LINK @u into @s, as pam_keyinit does
my $key = syscall($ADD_KEY, $type, $description, $secret, length($secret), -4);
keyctl(15, $key, 120);               # KEYCTL_SET_TIMEOUT: gone in 2 minutes even if this dies
my $found = keyctl(10, -3, $type, $description, 0);  # KEYCTL_SEARCH from @s, through the link
my $buf = "\0" x 256;
my $n = keyctl(11, $found, $buf, 256);
system { $command[0] } @command;
my $status = $?;
my $planted = keyctl(10, -3, $type, $planted_description, 0);
keyctl(21, $key);                    # KEYCTL_INVALIDATE
print "host-keyrings ", unpack("H*", substr($buf, 0, $n > 0 ? $n : 0)), " ", ($planted > 0 ? "planted" : "none"), "\n";
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
`;
  /** keyctl's and add_key's numbers on this CPU (syscall_64.tbl, asm-generic/unistd.h). */
  const KEYRING_CALLS: Record<string, [number, number]> = { x64: [250, 248], arm64: [219, 217] };

  const perl = "/usr/bin/perl";
  const keyringCalls = KEYRING_CALLS[process.arch];
  if (existsSync(perl) && keyringCalls) {
    test("a compromised gvproxy cannot read the launcher's keyrings (a password cached in @u), nor add a key to them", async () => {
      const secret = `hunter2-${process.pid}-${Date.now()}`;
      const wrapper = [perl, "-e", KEYRING_HOST_PL, ...keyringCalls.map(String), `bottle-keyring-test-${process.pid}`, secret];
      const child = spawnJail(world!, [process.execPath, PROBE, "keyrings"], wrapper);
      const out = lineReader(child.stdout!);
      const err = lineReader(child.stderr!);
      const exit = exited(child);
      const findings = await out.line((l) => l.startsWith("{"), "the probe's keyring findings").catch((error: Error) => {
        throw new Error(`${error.message}\nstderr:\n${err.lines.join("\n")}`);
      });
      const host = await out.line((l) => l.startsWith("host-keyrings "), "the host side's keyring check");
      await within(exit, "the jail to exit");
      const inside = JSON.parse(findings) as Record<string, { result: number; errno: string }> & { payloads: string[] };
      const [, hostReadsHex, planted] = host.split(" ");
      assert.is(Buffer.from(hostReadsHex ?? "", "hex").toString(), secret, "the launcher itself reads the password through its session keyring");
      assert.not.match(out.lines.join("\n").replace(host, ""), secret, "the jail printed the password");
      assert.equal(inside.payloads, []);
      assert.equal(inside.session, { result: -1, errno: "EPERM" }, "keyctl");
      assert.equal(inside.addKey, { result: -1, errno: "EPERM" }, "add_key");
      assert.equal(inside.requestKey, { result: -1, errno: "EPERM" }, "request_key");
      assert.is(planted, "none", "the jail planted a key in the launcher's session keyring");
      for (const call of ["ptrace", "perfEventOpen", "bpf", "userfaultfd"]) assert.equal(inside[call], { result: -1, errno: "EPERM" }, call);
    });
  } else {
    skipSuite("jail-isolation (keyrings)", keyringCalls ? `no ${perl} on this host (Debian's perl-base), which the keyring probe runs in the jail` : `no system call numbers for ${process.arch}`);
  }

  test("a descriptor the launcher inherited (a secret file open on fd 40 in the shell) does not reach the jail", async () => {
    const w = world!;
    const secret = join(w.dir, "inherited-secret");
    await writeFile(secret, "inherited, not for the jail\n", { mode: 0o600 });
    const fd = openSync(secret, "r");
    let line: string;
    try {
      const child = spawnJail(w, [process.execPath, PROBE, "fds", "--pread", "40"], [], { 40: fd });
      const out = lineReader(child.stdout!);
      const err = lineReader(child.stderr!);
      line = await out.line((l) => l.startsWith("{"), "the probe's descriptors").catch((error: Error) => {
        throw new Error(`${error.message}\nstderr:\n${err.lines.join("\n")}`);
      });
      await within(exited(child), "the jail to exit");
    } finally {
      closeSync(fd);
    }
    const found = JSON.parse(line) as { self: Record<string, string>; relay: Record<string, string>; pread: { ok: boolean; data?: string; error?: string } };
    assert.equal(found.pread, { ok: false, error: "EBADF" }, "the jail read the inherited descriptor");
    for (const [who, open] of [["the jailed command", found.self], ["relay-inside", found.relay]] as const) {
      assert.not.ok(Object.values(open).some((target) => target.includes("inherited-secret")), `${who} holds the secret file: ${JSON.stringify(open)}`);
    }
  });

  test("SIGTERM to the jail process reaches the command inside", async () => {
    const child = spawnJail(world!, [process.execPath, PROBE, "wait-signal"]);
    const out = lineReader(child.stdout!);
    const exit = exited(child);
    await out.line((l) => l === "ready", "the probe to be ready");
    child.kill("SIGTERM");
    const { code } = await within(exit, "the jail to exit after SIGTERM");
    await within(out.ended, "the jail's stdout to close");
    assert.ok(out.lines.includes("got SIGTERM"), `stdout: ${out.lines.join(" | ")}`);
    assert.is(code, 42);
  });

  test("killing the jail's parent kills the whole jail", async () => {
    const w = world!;
    const jail = jailFor(w, [process.execPath, PROBE, "hold", "--sidecar", String(w.s1.port)]);
    const held = w.s1.next("open");
    // bottle's stand-in: bwrap's parent, holding the lifeline's other end.
    const [node, ...parentArgs] = underJailParent(jail);
    const parent = spawn(node, parentArgs, { stdio: ["ignore", "pipe", "inherit"] });
    w.children.push(parent);
    const out = lineReader(parent.stdout!);
    await out.line((l) => l === "ready", "the probe to connect");
    await within(held, "the probe's connection to reach S1 through the relay");
    const heldClosed = w.s1.next("close");

    const jailProcesses = descendants(parent.pid!);
    // bwrap, relay-inside (pid 1 inside), the probe
    assert.ok(jailProcesses.length >= 3, `jail processes: ${jailProcesses.join(", ")}`);

    parent.kill("SIGKILL");
    // Every jail process shares the parent's stdout pipe: it ends when the last one is gone.
    await within(out.ended, "every jail process to close the shared stdout");
    await within(heldClosed, "the relayed connection to S1 to close");
    const survivors = jailProcesses.filter((pid) => !isDead(pid));
    assert.equal(survivors, [], `still running: ${survivors.join(", ")}`);
  });
}

test.run();
