// Command line of relay-inside.js (pure):
//   --run <runDir> --port P [--port P2 …] [--lifeline FD] [--user UID:GID] -- <command> [args…]
import { isPort } from "./jail-layout.js";

export interface RelayInsideArgs {
  runDir: string;
  ports: number[];
  /** The uid and gid to make itself before anything else (the jail of a bottle run as root). */
  user?: { uid: number; gid: number };
  /** A descriptor whose end means the launcher is gone: then the jail ends. */
  lifeline?: number;
  command: string[];
}

export type ParsedRelayArgs = { ok: true; args: RelayInsideArgs } | { ok: false; error: string };

export const RELAY_INSIDE_USAGE = "usage: relay-inside.js --run <runDir> --port <port> [--port <port> …] [--lifeline <fd>] [--user <uid>:<gid>] -- <command> [args…]";

export function parseRelayInsideArgs(argv: readonly string[]): ParsedRelayArgs {
  let runDir: string | undefined;
  let user: { uid: number; gid: number } | undefined;
  let lifeline: number | undefined;
  const ports: number[] = [];
  let i = 0;
  for (; i < argv.length && argv[i] !== "--"; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined || value === "--") return { ok: false, error: `${flag} needs a value` };
    if (flag === "--run") runDir = value;
    else if (flag === "--port") {
      const port = Number(value);
      if (!/^\d+$/.test(value) || !isPort(port)) return { ok: false, error: `--port ${value} is not a port (1-65535)` };
      if (ports.includes(port)) return { ok: false, error: `--port ${port} is given twice` };
      ports.push(port);
    } else if (flag === "--lifeline") {
      if (!/^([3-9]|[1-9]\d+)$/.test(value)) return { ok: false, error: `--lifeline ${value} is not a descriptor above 2` };
      lifeline = Number(value);
    } else if (flag === "--user") {
      const ids = /^([1-9]\d*):([1-9]\d*)$/.exec(value);
      if (!ids) return { ok: false, error: `--user ${value} is not <uid>:<gid> (neither 0)` };
      user = { uid: Number(ids[1]), gid: Number(ids[2]) };
    } else return { ok: false, error: `unknown argument ${flag}` };
  }
  const command = argv.slice(i + 1);
  if (runDir === undefined) return { ok: false, error: "--run is required" };
  if (ports.length === 0) return { ok: false, error: "at least one --port is required" };
  if (argv[i] !== "--" || command.length === 0) return { ok: false, error: "a command is required after --" };
  return { ok: true, args: { runDir, ports, ...(lifeline !== undefined ? { lifeline } : {}), ...(user ? { user } : {}), command } };
}
