// Entry script run INSIDE the jail, as its pid 1:
//   node relay-inside.js --run <runDir> --port P [--port P2 …] -- <command> [args…]
// Listens on the jail's 127.0.0.1:P for each sidecar port and carries every
// connection over <runDir>/jail/relays/<P>.sock to the host side (relay-host.ts).
// Once all listeners are up it runs the command, forwards stop signals to
// it, and exits with its status. node: imports only (and siblings that obey
// the same rule), so it starts fast.
import { spawn, type ChildProcess } from "node:child_process";
import { createConnection, createServer, type Server } from "node:net";
import { constants } from "node:os";
import { pipeBoth } from "./pipe-both.js";
import { parseRelayInsideArgs, RELAY_INSIDE_USAGE } from "./relay-inside-args.js";
import { relaySocketPath } from "./jail-layout.js";

const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

function fail(message: string, exitCode: number): never {
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

async function main(): Promise<void> {
  const parsed = parseRelayInsideArgs(process.argv.slice(2));
  if (!parsed.ok) fail(`${parsed.error}\n${RELAY_INSIDE_USAGE}`, 2);
  const { runDir, ports, command } = parsed.args;

  let child: ChildProcess | undefined;
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
    fail(`${(error as Error).message}; not starting ${command[0]}`, 1);
  }

  const [file, ...args] = command as [string, ...string[]];
  // gvproxy needs no environment: it gets none (bwrap set only PWD).
  child = spawn(file, args, { stdio: "inherit", env: {} });
  child.on("error", (error) => fail(`cannot start ${file}: ${error.message}`, 127));
  child.on("exit", (code, signal) => {
    for (const server of servers) server.close();
    process.exit(code ?? signalExitCode(signal ?? "SIGKILL"));
  });
}

await main();
