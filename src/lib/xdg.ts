// bottle's own directories under the XDG base directories of the user.
import { homedir } from "node:os";
import { join } from "node:path";
import { checkPrivateDir } from "./private-dir.js";

/** `$XDG_STATE_HOME/bottle` (default ~/.local/state/bottle): the registry, the workspaces record, the notices given. */
export function bottleStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "bottle");
}

/**
 * `$XDG_STATE_HOME/bottle/<name>`, checked as bottle's own (private-dir.ts:
 * the last two levels yours and 0700, nothing above writable by others);
 * false while it does not exist (unless `create`). `what` and `fix` go into
 * a refusal.
 */
export function checkStateSubdir(name: string, spec: { what: string; fix: string }, env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(join(bottleStateDir(env), name), { ...spec, privateLevels: 2, ...options });
}

/** `$XDG_CONFIG_HOME/bottle` (default ~/.config/bottle): where `bottle init` writes configs. */
export function bottleConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "bottle");
}

/** `$XDG_CACHE_HOME/bottle` (default ~/.cache/bottle): the config cache, jiti's and Node's compile caches. */
export function bottleCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "bottle");
}
