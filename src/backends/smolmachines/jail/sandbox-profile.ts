// macOS Seatbelt profile for `sandbox-exec -p` (pure: data in, text out).
// Everything gvproxy needs is allowed except the network, which is limited
// to outbound TCP to the sidecar ports on localhost and unix sockets under
// the run dir's jail/ (never control.sock, beside it). In SBPL the last matching rule wins, so the allows below
// carve exceptions out of `(deny network*)`.
import { posix } from "node:path";
import { isPort, jailLayout } from "./jail-layout.js";

export interface SandboxProfileInput {
  /** Absolute path of the run dir (gvproxy's socket lives in its jail/). */
  runDir: string;
  ports: readonly number[];
}

/** An SBPL (TinyScheme) string literal. */
export function sbplString(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`cannot put ${JSON.stringify(value)} in a sandbox profile: it contains a control character`);
  }
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * Seatbelt matches resolved paths, and /tmp, /var and /etc are symlinks into
 * /private on macOS, so a directory under them is listed under both spellings.
 */
export function sandboxPaths(dir: string): string[] {
  if (!posix.isAbsolute(dir)) throw new Error(`sandbox profile: ${dir} is not absolute`);
  const normal = posix.normalize(dir).replace(/(.)\/$/, "$1");
  const aliased = /^\/(tmp|var|etc)(\/|$)/.test(normal) ? [`/private${normal}`] : [];
  return [normal, ...aliased];
}

export function sandboxProfile({ runDir, ports }: SandboxProfileInput): string {
  if (ports.length === 0) throw new Error("sandbox profile: at least one sidecar port is required");
  for (const port of ports) if (!isPort(port)) throw new Error(`sandbox profile: ${port} is not a port (1-65535)`);
  const dirs = sandboxPaths(jailLayout(runDir).dir).map((path) => `(subpath ${sbplString(path)})`);
  return [
    "(version 1)",
    "(allow default)",
    "(deny network*)",
    ...ports.map((port) => `(allow network-outbound (remote tcp "localhost:${port}"))`),
    ...dirs.map((dir) => `(allow network-bind network-inbound (local unix-socket ${dir}))`),
    ...dirs.map((dir) => `(allow network-outbound (remote unix-socket ${dir}))`),
    "",
  ].join("\n");
}
