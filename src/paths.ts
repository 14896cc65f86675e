// Where a bottle keeps its files. The stage dir holds rendered files, state
// and logs; the run dir holds sockets and pid records and is kept short,
// because unix socket paths are limited (104 bytes on macOS, 108 on Linux).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { usageError } from "./errors.js";

/** The longest socket name bottle puts in the run dir (LONGEST_SOCKET_IN_RUN_DIR in the jail's layout; a test keeps them equal). */
export const LONGEST_SOCKET = "jail/relays/65535.sock";

export function stageDir(configDir: string, slug: string, override?: string): string {
  return override ? resolve(override) : join(configDir, ".bottle", slug);
}

export function runDir(slug: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const base = runtime && existsSync(runtime) ? join(runtime, "bottle") : join("/tmp", `bottle-${process.getuid?.() ?? "user"}`);
  const dir = join(base, slug);
  const limit = platform === "darwin" ? 104 : 108;
  // sun_path includes the terminating NUL.
  if (Buffer.byteLength(join(dir, LONGEST_SOCKET)) >= limit) {
    throw usageError(
      `the run dir ${dir} is too long for unix sockets (${limit - 1} bytes at most for ${join(dir, LONGEST_SOCKET)}); set XDG_RUNTIME_DIR to a shorter directory`,
    );
  }
  return dir;
}

/** The registry of bottles on this machine: one small record per bottle. */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "bottle", "bottles");
}
