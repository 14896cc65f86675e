// Comparing paths: whether one is inside a directory, and what a path is
// once its symlinks are resolved. Lexical comparisons only see what they
// are given: compare real paths (resolvedPath) when a symlink could matter.
import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** `path` is `dir` itself or anything below it. */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || isDescent(rel);
}

/** `path` is strictly below `dir` (not `dir` itself). */
export function isBelow(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && isDescent(rel);
}

/** A non-empty relative path that stays below where it starts (`..foo` is a name, not a way up). */
function isDescent(rel: string): boolean {
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** A path with symlinks resolved as far as it exists (the rest may not exist yet). */
export function resolvedPath(path: string): string {
  const rest: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return resolve(path);
      rest.push(basename(current));
      current = parent;
    }
  }
}

/** The real path of something that exists; null when it does not (or cannot be resolved). */
export function realPathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
