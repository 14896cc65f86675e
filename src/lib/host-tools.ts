// Where bottle looks for the host programs it drives (smolvm, gvproxy,
// pipelock, bwrap, gitleaks): PATH first, then the .tools/bin that
// `npm run tools` fills in bottle's own checkout.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { packageRoot } from "./package-root.js";
import { isInside, resolvedPath } from "./path-checks.js";

/** Overrides the directory searched after PATH; empty: PATH only. */
export const TOOLS_DIR_ENV = "BOTTLE_TOOLS_DIR";

/** The directory searched after PATH, or null when it is switched off. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env[TOOLS_DIR_ENV];
  if (override === undefined) return join(packageRoot(), ".tools", "bin");
  return override === "" ? null : override;
}

/** A PATH entry bottle will not look in, and why. */
interface DroppedEntry {
  entry: string;
  why: string;
}

/**
 * `searchPath` with only the entries bottle may run programs from: absolute
 * directories outside every one of `untrusted` (directories a guest can
 * write). A program in a workspace is the agent's, and bottle runs what it
 * finds as you, the jail's bwrap and the git gate's git among them. An
 * empty or relative entry names whatever directory a lookup happens in
 * (bottle's own, or a child's), which may be a workspace, so it goes too.
 * Returns the entries it dropped, so the caller can say so.
 */
function withoutUntrustedDirs(searchPath: string, untrusted: readonly string[]): { path: string; dropped: DroppedEntry[] } {
  const dirs = untrusted.map(resolvedPath);
  const keep: string[] = [];
  const dropped: DroppedEntry[] = [];
  for (const entry of searchPath.split(delimiter)) {
    if (entry === "") dropped.push({ entry, why: "it means the current directory, wherever a program is looked up" });
    else if (!isAbsolute(entry)) dropped.push({ entry, why: "a relative entry names a different directory wherever a program is looked up" });
    else if (dirs.some((dir) => isInside(dir, resolvedPath(entry)))) dropped.push({ entry, why: "it is inside a workspace a bottle's guest can write" });
    else keep.push(entry);
  }
  return { path: keep.join(delimiter), dropped };
}

/**
 * The search path bottle runs programs from, and the PATH every child it
 * starts gets: PATH, then bottle's .tools/bin, without the directories a
 * guest can write (this config's workspace and every registered bottle's)
 * and without empty or relative entries. `npx bottle` from inside a project
 * puts its node_modules/.bin first on PATH; each entry skipped is named on
 * stderr, once.
 */
export function trustedSearchPath(guestWritable: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const { path, dropped } = withoutUntrustedDirs(toolSearchPath(env.PATH ?? "", env), guestWritable);
  const said = new Set<string>();
  for (const { entry, why } of dropped) {
    if (said.has(entry)) continue;
    said.add(entry);
    const where = entry === "" ? "an empty PATH entry" : `${entry} (on PATH)`;
    process.stderr.write(`warning: not looking for programs in ${where}: ${why}\n`);
  }
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
