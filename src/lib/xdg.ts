// bottle's own directories under the XDG base directories of the user.
import { homedir } from "node:os";
import { join } from "node:path";

/** `$XDG_STATE_HOME/bottle` (default ~/.local/state/bottle): the registry, the workspaces record, the notices given. */
export function bottleStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "bottle");
}

/** `$XDG_CACHE_HOME/bottle` (default ~/.cache/bottle): the config cache, jiti's and Node's compile caches. */
export function bottleCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "bottle");
}
