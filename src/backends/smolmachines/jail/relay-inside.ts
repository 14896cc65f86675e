// Entry script run INSIDE the jail, as its pid 1:
//   node relay-inside.js --run <runDir> --port P [--port P2 …] [--lifeline FD] [--user UID:GID] -- <command> [args…]
// With --user (bottle runs as root), it first makes itself that uid and gid
// with no groups, which ends every capability it was started with, and
// refuses to go on otherwise. With --lifeline it exits, and so ends the
// jail, when that descriptor's other end (the launcher's) closes. It
// listens on the jail's 127.0.0.1:P for each sidecar port and carries every
// connection over <runDir>/jail/relays/<P>.sock to the host side
// (relay-host.ts). Once all listeners are up it runs the command, forwards
// stop signals to it, and exits with its status. node: imports only (and
// siblings that obey the same rule), so it starts fast.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createConnection, createServer, Socket, type Server } from "node:net";
import { constants } from "node:os";
import { pipeBoth } from "./pipe-both.js";
import { parseRelayInsideArgs, RELAY_INSIDE_USAGE } from "./relay-inside-args.js";
import { relaySocketPath } from "./jail-layout.js";

const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

function exitWith(message: string, exitCode: number): never {
  process.stderr.write(`relay-inside: ${message}\n`);
  process.exit(exitCode);
}

function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

function listenOnLoopback(port: number, socketPath: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true }, (client) => {
      pipeBoth(client, createConnection({ path: socketPath, allowHalfOpen: true }));
    });
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on 127.0.0.1:${port} (${error.code ?? error.message})`));
    });
    server.listen({ host: "127.0.0.1", port }, () => resolve(server));
  });
}

/** Becomes `uid`/`gid` for good: from uid 0, setuid to another uid clears the permitted and effective capabilities. */
function dropTo({ uid, gid }: { uid: number; gid: number }): void {
  try {
    process.setgroups!([]);
    process.setgid!(gid);
    process.setuid!(uid);
  } catch (error) {
    exitWith(`cannot become uid ${uid}, gid ${gid}: ${(error as Error).message}`, 1);
  }
  const status = readFileSync("/proc/self/status", "utf8");
  const ids = (field: string): string => new RegExp(`^${field}:[ \\t]*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "?";
  const dropped =
    ids("Uid") === `${uid}\t${uid}\t${uid}\t${uid}` &&
    ids("Gid") === `${gid}\t${gid}\t${gid}\t${gid}` &&
    ids("Groups") === "" &&
    /^0+$/.test(ids("CapEff")) &&
    /^0+$/.test(ids("CapPrm"));
  if (!dropped) exitWith(`still privileged after dropping to uid ${uid}: Uid ${ids("Uid")}, Gid ${ids("Gid")}, CapEff ${ids("CapEff")}`, 1);
}

async function main(): Promise<void> {
  const parsed = parseRelayInsideArgs(process.argv.slice(2));
  if (!parsed.ok) exitWith(`${parsed.error}\n${RELAY_INSIDE_USAGE}`, 2);
  const { runDir, ports, user, lifeline, command } = parsed.args;
  if (user) dropTo(user);

  let child: ChildProcess | undefined;
  if (lifeline !== undefined) {
    // As pid 1, exiting ends every process of the jail.
    const end = (): never => exitWith("the launcher is gone; ending the jail", 1);
    const socket = new Socket({ fd: lifeline, readable: true, writable: false });
    socket.on("data", () => undefined);
    socket.on("end", end);
    socket.on("error", end);
    socket.unref(); // it alone does not keep the relay running
  }

  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => {
      // Stopped before the command started: nothing to hand the signal to.
      if (child === undefined) process.exit(signalExitCode(signal));
      child.kill(signal);
    });
  }

  let servers: Server[];
  try {
    servers = await Promise.all(ports.map((port) => listenOnLoopback(port, relaySocketPath(runDir, port))));
  } catch (error) {
    exitWith(`${(error as Error).message}; not starting ${command[0]}`, 1);
  }

  const [file, ...args] = command as [string, ...string[]];
  // gvproxy needs no environment: it gets none (bwrap set only PWD).
  child = spawn(file, args, { stdio: "inherit", env: {} });
  child.on("error", (error) => exitWith(`cannot start ${file}: ${error.message}`, 127));
  child.on("exit", (code, signal) => {
    for (const server of servers) server.close();
    process.exit(code ?? signalExitCode(signal ?? "SIGKILL"));
  });
}

await main();
