// Node's compile cache, turned on only where a guest cannot write it
// (config/cache.ts says when), knowing the registered bottles' workspaces.
import { enableCompileCache } from "../config/cache.js";
import { knownWorkspaces, type GuardedDir } from "../config/known-workspaces.js";
import { registeredWorkspaces } from "./registry.js";

/** For `configPath` (null: a command that loads no config); `registered` is read from the registry when not given (and Node has a compile cache). */
export function enableCompileCacheFor(configPath: string | null, registered?: readonly GuardedDir[] | null): void {
  const known = () => knownWorkspaces(process.env, registered === undefined ? registeredWorkspaces() : registered);
  enableCompileCache(configPath, (message) => void process.stderr.write(`warning: ${message}\n`), known);
}
