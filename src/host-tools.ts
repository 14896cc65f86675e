// Where bottle looks for the host programs it drives (smolvm, gvproxy,
// pipelock, bwrap, gitleaks): PATH first, then the .tools/bin that
// `npm run tools` fills in bottle's own checkout.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { packageRoot } from "./package-root.js";

/** Overrides the directory searched after PATH; empty: PATH only. */
export const TOOLS_DIR_ENV = "BOTTLE_TOOLS_DIR";

/** The directory searched after PATH, or null when it is switched off. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env[TOOLS_DIR_ENV];
  if (override === undefined) return join(packageRoot(), ".tools", "bin");
  return override === "" ? null : override;
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
