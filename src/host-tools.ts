// Where bottle looks for the host programs it drives (smolvm, gvproxy,
// pipelock, bwrap, gitleaks): PATH first, then the .tools/bin that
// `npm run tools` fills in bottle's own checkout.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { isInside, resolvedPath } from "./config/host-checks.js";
import { packageRoot } from "./package-root.js";

/** Overrides the directory searched after PATH; empty: PATH only. */
export const TOOLS_DIR_ENV = "BOTTLE_TOOLS_DIR";

/** The directory searched after PATH, or null when it is switched off. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env[TOOLS_DIR_ENV];
  if (override === undefined) return join(packageRoot(), ".tools", "bin");
  return override === "" ? null : override;
}

/**
 * `searchPath` without its entries inside any of `untrusted` (directories a
 * guest can write): a program there is the agent's, and bottle runs what it
 * finds as you, the jail's bwrap and the git gate's git among them. Returns
 * the entries it dropped too, so the caller can say so.
 */
function withoutUntrustedDirs(searchPath: string, untrusted: readonly string[]): { path: string; dropped: string[] } {
  const dirs = untrusted.map(resolvedPath);
  const keep: string[] = [];
  const dropped: string[] = [];
  for (const entry of searchPath.split(delimiter)) {
    if (entry !== "" && isAbsolute(entry) && dirs.some((dir) => isInside(dir, resolvedPath(entry)))) dropped.push(entry);
    else keep.push(entry);
  }
  return { path: keep.join(delimiter), dropped };
}

/**
 * The search path bottle runs programs from: PATH, then bottle's .tools/bin,
 * without the directories a guest can write (this config's workspace and
 * every registered bottle's). `npx bottle` from inside a project puts its
 * node_modules/.bin first on PATH; each entry skipped is named on stderr.
 */
export function trustedSearchPath(guestWritable: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const { path, dropped } = withoutUntrustedDirs(toolSearchPath(env.PATH ?? "", env), guestWritable);
  for (const dir of dropped) process.stderr.write(`warning: not looking for programs in ${dir} (on PATH): it is inside a workspace a bottle's guest can write\n`);
  return path;
}

/** PATH, then the tools dir: the search path bottle's tool lookups use. */
export function toolSearchPath(pathEnv: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = toolsDir(env);
  return dir === null ? pathEnv : pathEnv === "" ? dir : `${pathEnv}${delimiter}${dir}`;
}

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first entry of `searchPath` holding an executable regular file called
 * `name`, or null. Empty and relative entries are skipped: they would make
 * the answer depend on the current directory.
 */
export function findOnPath(
  name: string,
  searchPath: string,
  isExecutable: (path: string) => boolean = isExecutableFile,
): string | null {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Where `name` is found on PATH, then in the tools dir; null when in neither. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  return findOnPath(name, toolSearchPath(env.PATH ?? "", env));
}
