// Stand-in for gvproxy in the jail tests (not a suite). Runs INSIDE the jail:
//   node jail-probe.js report [--sidecar <port> …] [--closed <port> …] [--read <path> …]
//       [--write <path> …] [--open-write <path> …] [--remove <path> …] [--rename <path> …]
//       [--connect <unix socket> …] [--exit N]
//     looks around as a compromised gvproxy would and prints one JSON line of
//     findings, then exits N;
//   node jail-probe.js wait-signal: prints "ready", exits 42 on SIGTERM;
//   node jail-probe.js hold --sidecar <port>: opens a connection through the
//     relay, prints "ready" and waits to be killed;
//   node jail-probe.js listen --socket <path>: listens there as gvproxy does,
//     answers "from the jail" to each connection, prints "ready", waits;
//   node jail-probe.js keyrings: walks the session keyring (@s) as the
//     security review did, reading every key it reaches, tries add_key and
//     request_key (and ptrace, perf_event_open, bpf, userfaultfd), and prints
//     one JSON line of what each call returned (the calls are perl's: Node
//     cannot make them).
//   node jail-probe.js fds --pread <fd>: lists its own open descriptors and
//     the relay's (pid 1), tries to read descriptor <fd> (one the launcher
//     may have inherited), and prints one JSON line.
import { spawnSync } from "node:child_process";
import { closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

type Args = Record<string, string[]>;

function parse(argv: string[]): Args {
  const args: Args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = (argv[i] ?? "").replace(/^--/, "");
    (args[key] ??= []).push(argv[i + 1] ?? "");
  }
  return args;
}

function one(args: Args, key: string): string {
  const value = args[key]?.[0];
  if (value === undefined) throw new Error(`jail-probe: --${key} is required`);
  return value;
}

/** Sends a line, half-closes, and reads the reply until the server ends. */
function exchange(port: number): Promise<{ reply?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.end("ping"));
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("end", () => resolve({ reply }));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

interface Attempt {
  ok: boolean;
  error?: string;
}

function attempt(action: () => void): Attempt {
  try {
    action();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
}

function tryWrite(path: string): Attempt {
  return attempt(() => writeFileSync(path, "written from the jail\n"));
}

/** Opens for writing and closes at once, writing nothing: a kernel setting is changed only by a write, never by the open. */
function tryOpenForWriting(path: string): Attempt {
  return attempt(() => closeSync(openSync(path, constants.O_WRONLY)));
}

function tryRead(path: string): Attempt {
  return attempt(() => readFileSync(path));
}

/** Connects to a unix socket and closes at once. */
function tryConnect(path: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.on("connect", () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve({ ok: false, error: error.code ?? error.message }));
  });
}

/** NAME=value pairs of a process's environment, by name. */
function environ(pid: string): string[] | string {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unreadable";
  }
}

/** Tries to make a new user namespace, where it would be root again. */
function newUserNamespace(): { status: number | null; stderr: string } {
  const result = spawnSync("unshare", ["--user", "true"], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
  return { status: result.status, stderr: result.error ? result.error.message : result.stderr.trim() };
}

async function each<T>(paths: string[] | undefined, check: (path: string) => T | Promise<T>): Promise<Record<string, T>> {
  const results: Record<string, T> = {};
  for (const path of paths ?? []) results[path] = await check(path);
  return results;
}

/** Interface names from /proc/net/dev (this network namespace's, unlike /sys/class/net). */
function interfaces(): string[] {
  return readFileSync("/proc/net/dev", "utf8")
    .split("\n")
    .slice(2)
    .map((line) => line.split(":")[0]?.trim() ?? "")
    .filter(Boolean);
}

function routeDevices(file: string, column: "first" | "last"): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .slice(file.endsWith("ipv6_route") ? 0 : 1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 1)
    .map((fields) => (column === "first" ? fields[0] : fields[fields.length - 1]) ?? "");
}

function capEff(): string | undefined {
  return /^CapEff:\s*(\S+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
}

async function report(args: Args): Promise<void> {
  const sidecars: Record<string, { reply?: string; error?: string }> = {};
  for (const port of args.sidecar ?? []) sidecars[port] = await exchange(Number(port));
  const closed: Record<string, { reply?: string; error?: string }> = {};
  for (const port of args.closed ?? []) closed[port] = await exchange(Number(port));
  const findings = {
    pid: process.pid,
    ppid: process.ppid,
    uid: process.getuid?.(),
    gid: process.getgid?.(),
    uidMap: readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/).map(Number),
    environ: environ("self"),
    relayEnviron: environ("1"),
    sidecars,
    closed,
    interfaces: interfaces(),
    ipv4RouteDevices: routeDevices("/proc/net/route", "first"),
    ipv6RouteDevices: routeDevices("/proc/net/ipv6_route", "last"),
    capEff: capEff(),
    newUserNamespace: newUserNamespace(),
    reads: await each(args.read, tryRead),
    writes: await each(args.write, tryWrite),
    opensForWriting: await each(args["open-write"], tryOpenForWriting),
    removes: await each(args.remove, (path) => attempt(() => rmSync(path))),
    renames: await each(args.rename, (path) => attempt(() => renameSync(path, `${path}.moved`))),
    connects: await each(args.connect, tryConnect),
  };
  process.stdout.write(`${JSON.stringify(findings)}\n`);
  process.exitCode = Number(args.exit?.[0] ?? 0);
}

// Node has no keyctl. perl makes the calls with its syscall builtin: perl-base
// is on every Debian and Ubuntu system (Essential), under /usr, which the jail
// binds. It prints one line per finding; keyrings() turns them into JSON.
/** The call numbers, by process.arch: add_key, request_key, keyctl, ptrace, perf_event_open, bpf, userfaultfd (syscall_64.tbl, asm-generic/unistd.h). */
const CALL_NUMBERS: Record<string, readonly number[]> = {
  x64: [248, 249, 250, 101, 298, 321, 323],
  arm64: [217, 218, 219, 117, 241, 280, 282],
};

const KEYRINGS_PL = String.raw`
use strict;
use warnings;
my ($ADD_KEY, $REQUEST_KEY, $KEYCTL, $PTRACE, $PERF_EVENT_OPEN, $BPF, $USERFAULTFD) = map { 0 + $_ } @ARGV;
$| = 1;
sub call {
    # Copies: syscall passes a string as a pointer to its buffer, which must be writable (not a literal).
    my ($name, $nr, @args) = @_;
    local $! = 0;
    my $result = syscall($nr, @args);
    my ($errno) = $result < 0 ? grep { $!{$_} } keys %! : ("");
    print "call $name $result ", ($errno // "?"), "\n";
    return $result;
}
sub keyctl { return syscall($KEYCTL, @_) }
sub walk {
    my ($key, $depth) = @_;
    my $data = "\0" x 4096;
    my $n = keyctl(11, $key, $data, 4096);  # KEYCTL_READ
    $data = substr($data, 0, $n > 0 ? $n : 0);
    my $type = "\0" x 256;
    keyctl(6, $key, $type, 256);  # KEYCTL_DESCRIBE
    if ($type =~ /^keyring/) {
        if ($depth < 4) { walk($_, $depth + 1) for unpack("l<*", $data) }
    } elsif (length $data) {
        print "payload ", unpack("H*", $data), "\n";
    }
}
my $session = call("session", $KEYCTL, 0, -3, 0);  # KEYCTL_GET_KEYRING_ID of @s
walk($session, 0) if $session > 0;
call("addKey", $ADD_KEY, "user", "planted-by-jail", "x", 1, -3);
call("requestKey", $REQUEST_KEY, "user", "planted-by-jail", 0, 0);
# Without the filter: PTRACE_SEIZE of relay-inside (pid 1) and a user-mode userfaultfd succeed, perf_event_open(NULL) is EFAULT,
# and bpf(BPF_PROG_LOAD) with an attr larger than a page is E2BIG: Linux 6.5 and later check the size before the
# privilege check kernel.unprivileged_bpf_disabled adds (earlier ones, with it set, say EPERM either way).
call("ptrace", $PTRACE, 0x4206, 1, 0, 0);
call("perfEventOpen", $PERF_EVENT_OPEN, 0, 0, -1, -1, 0);
my $attr = "\0" x 8192;
call("bpf", $BPF, 5, $attr, 8192);
call("userfaultfd", $USERFAULTFD, 1);
`;

function keyrings(): void {
  const numbers = CALL_NUMBERS[process.arch];
  if (!numbers) {
    process.stderr.write(`jail-probe: no system call numbers for ${process.arch}\n`);
    process.exit(3);
  }
  const result = spawnSync("/usr/bin/perl", ["-e", KEYRINGS_PL, ...numbers.map(String)], { encoding: "utf8", env: {} });
  if (result.status !== 0) {
    process.stderr.write(`jail-probe: perl failed: ${result.error?.message ?? result.stderr}\n`);
    process.exit(3);
  }
  const findings: Record<string, unknown> = { payloads: [] as string[] };
  for (const line of result.stdout.split("\n")) {
    const [kind, name, value, errno] = line.split(" ");
    if (kind === "call") findings[name!] = { result: Number(value), errno };
    else if (kind === "payload") (findings.payloads as string[]).push(Buffer.from(name!, "hex").toString("utf8"));
  }
  process.stdout.write(`${JSON.stringify(findings)}\n`);
}

/** Each open descriptor of `pid` and what it points at. */
function openDescriptors(pid: string): Record<string, string> | string {
  try {
    const found: Record<string, string> = {};
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        found[fd] = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        // closed meanwhile (the directory's own descriptor)
      }
    }
    return found;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unreadable";
  }
}

function fds(args: Args): void {
  const fd = Number(one(args, "pread"));
  const pread = attemptRead(fd);
  process.stdout.write(`${JSON.stringify({ self: openDescriptors("self"), relay: openDescriptors("1"), pread })}\n`);
}

function attemptRead(fd: number): { ok: boolean; data?: string; error?: string } {
  try {
    const buffer = Buffer.alloc(256);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return { ok: true, data: buffer.subarray(0, read).toString() };
  } catch (error) {
    return { ok: false, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
}

function waitSignal(): void {
  process.on("SIGTERM", () => {
    process.stdout.write("got SIGTERM\n");
    process.exit(42);
  });
  setInterval(() => undefined, 60_000);
  process.stdout.write("ready\n");
}

function hold(args: Args): void {
  const socket = connect({ host: "127.0.0.1", port: Number(one(args, "sidecar")) });
  socket.on("connect", () => {
    socket.write("hold");
    process.stdout.write("ready\n");
  });
  socket.on("error", (error) => {
    process.stderr.write(`jail-probe: ${error.message}\n`);
    process.exit(3);
  });
}

function listen(args: Args): void {
  createServer((socket) => socket.end("from the jail")).listen(one(args, "socket"), () => process.stdout.write("ready\n"));
}

const [mode, ...rest] = process.argv.slice(2);
const args = parse(rest);
if (mode === "report") await report(args);
else if (mode === "wait-signal") waitSignal();
else if (mode === "hold") hold(args);
else if (mode === "listen") listen(args);
else if (mode === "keyrings") keyrings();
else if (mode === "fds") fds(args);
else {
  process.stderr.write(`jail-probe: unknown mode ${mode}\n`);
  process.exit(2);
}
