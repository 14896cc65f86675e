// Stand-in for gvproxy in the jail tests (not a suite). Runs INSIDE the jail:
//   node jail-probe.js report --run <runDir> --outside <path> --sidecar <port> … --closed <port> [--exit N]
//     looks around and prints one JSON line of findings, then exits N;
//   node jail-probe.js wait-signal: prints "ready", exits 42 on SIGTERM;
//   node jail-probe.js hold --sidecar <port>: opens a connection through the
//     relay, prints "ready" and waits to be killed.
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

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

function tryWrite(path: string): { ok: boolean; error?: string } {
  try {
    writeFileSync(path, "written from the jail\n");
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as NodeJS.ErrnoException).code };
  }
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
  const runDir = one(args, "run");
  const sidecars: Record<string, { reply?: string; error?: string }> = {};
  for (const port of args.sidecar ?? []) sidecars[port] = await exchange(Number(port));
  const closed: Record<string, { reply?: string; error?: string }> = {};
  for (const port of args.closed ?? []) closed[port] = await exchange(Number(port));
  const findings = {
    pid: process.pid,
    ppid: process.ppid,
    sidecars,
    closed,
    interfaces: interfaces(),
    ipv4RouteDevices: routeDevices("/proc/net/route", "first"),
    ipv6RouteDevices: routeDevices("/proc/net/ipv6_route", "last"),
    capEff: capEff(),
    writeOutside: tryWrite(one(args, "outside")),
    writeInside: tryWrite(join(runDir, "inside.txt")),
  };
  process.stdout.write(`${JSON.stringify(findings)}\n`);
  process.exitCode = Number(args.exit?.[0] ?? 0);
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

const [mode, ...rest] = process.argv.slice(2);
const args = parse(rest);
if (mode === "report") await report(args);
else if (mode === "wait-signal") waitSignal();
else if (mode === "hold") hold(args);
else {
  process.stderr.write(`jail-probe: unknown mode ${mode}\n`);
  process.exit(2);
}
