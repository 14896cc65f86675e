// Where the relay for a sidecar port meets the host: <runDir>/relays/<port>.sock.
// Imported by relay-inside.ts, so node: imports only.
import { join } from "node:path";

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export function relayDir(runDir: string): string {
  return join(runDir, "relays");
}

export function relaySocketPath(runDir: string, port: number): string {
  const path = join(relayDir(runDir), `${port}.sock`);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `relay socket path ${path} is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit for unix sockets; use a shorter run dir`,
    );
  }
  return path;
}

export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}
