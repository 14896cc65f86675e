// Notices bottle gives once per config (what changed in a new version and
// the line to add), remembered as a marker file in the private notices dir
// under the user's state dir. A dir that is not safe to use is not written
// to: the notice is then given every time instead.
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BottleError } from "../lib/errors.js";
import { bottleStateDir, checkStateSubdir } from "../lib/xdg.js";
import { sha256Base64url } from "../lib/hash.js";
import { resolvedPath } from "../lib/path-checks.js";

/** Which one-time notices this user has seen: one empty marker per notice and config. */
export function noticesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(bottleStateDir(env), "notices");
}

function checkNoticesDir(env: NodeJS.ProcessEnv, options: { create?: boolean } = {}): boolean {
  return checkStateSubdir("notices", { what: "notices dir", fix: "it remembers which one-time notices you have seen; set XDG_STATE_HOME to a directory of your own" }, env, options);
}

/** Calls `give` unless the notice `topic` was already given for this config (by real path), and remembers it. */
export function noticeOnce(topic: string, configPath: string, give: () => void, env: NodeJS.ProcessEnv = process.env): void {
  const config = resolvedPath(configPath);
  let fd: number;
  try {
    checkNoticesDir(env, { create: true });
    // Created exclusively and never through a symlink: an existing marker is the memory.
    fd = openSync(join(noticesDir(env), `${topic}-${sha256Base64url(config)}`), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    if (!(error instanceof BottleError) && !(error as NodeJS.ErrnoException).code) throw error;
    give();
    return;
  }
  try {
    writeSync(fd, `${config}\n`);
  } finally {
    closeSync(fd);
  }
  give();
}
