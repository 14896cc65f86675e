// Where the jail's files live. Only <run>/jail is bound (writable) into the
// network jail: gvproxy's socket, pid and log files and the relay sockets.
// The control socket and the launch record stay in the run dir itself, out
// of the jail's reach. Imported by relay-inside.ts, so node: imports only.
import { join } from "node:path";

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The longest socket path bottle makes, relative to the run dir (run-dir.ts checks its length). */
export const LONGEST_SOCKET_IN_RUN_DIR = "jail/relays/65535.sock";

export interface JailLayout {
  /** <run>/jail: the only directory the jail sees of the host, and the only one it can write. */
  dir: string;
  /** Where gvproxy listens (written into gvproxy.yaml). */
  gvproxySocket: string;
  gvproxyPid: string;
  gvproxyLog: string;
  /** The relays' unix sockets, one per sidecar port (relay-host.ts listens, relay-inside.ts dials); read-only in the jail. */
  relayDir: string;
  /**
   * <run>/gvproxy.sock, OUTSIDE the jail: a hard link the launcher makes to
   * gvproxy's socket once it has checked it, and the path the machine mounts.
   * The jail can swap its own socket path for a symlink; it cannot touch this.
   */
  hostGvproxySocket: string;
}

export function jailLayout(runDir: string): JailLayout {
  const dir = join(runDir, "jail");
  return {
    dir,
    gvproxySocket: join(dir, "gvproxy.sock"),
    gvproxyPid: join(dir, "gvproxy.pid"),
    gvproxyLog: join(dir, "gvproxy.log"),
    relayDir: join(dir, "relays"),
    hostGvproxySocket: join(runDir, "gvproxy.sock"),
  };
}

export function relaySocketPath(runDir: string, port: number): string {
  const path = join(jailLayout(runDir).relayDir, `${port}.sock`);
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
