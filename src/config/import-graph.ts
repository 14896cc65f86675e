// The files a config would load, found without running any of them: its
// import and require specifiers are read from the source text and resolved
// as Node and jiti would, recursively, each file by its real path (so a
// `node_modules/evil` symlink counts where it points). Packages count as
// their whole directory, which is what a confinement check needs: a package
// whose real directory lies in a guest-writable workspace is guest code.
//
// It sees literal specifiers only. A specifier computed at run time is not
// seen here; load.ts adds what the evaluation actually loaded afterwards.
import { existsSync, readFileSync, statSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, extname, isAbsolute, join, resolve } from "node:path";
import { realPathOrNull } from "../lib/path-checks.js";

const SOURCE_EXTENSIONS = [".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"];
const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*["']([^"'\n]+)["']/g,
  /\bimport\s*["']([^"'\n]+)["']/g,
  /\bimport\s*\(\s*["']([^"'\n]+)["']\s*[,)]/g,
  /\brequire\s*\(\s*["']([^"'\n]+)["']\s*\)/g,
  // A template literal without substitutions is a literal too.
  /\bimport\s*\(\s*`([^`$\n]+)`\s*[,)]/g,
  /\brequire\s*\(\s*`([^`$\n]+)`\s*\)/g,
];
const BUILTINS = new Set(builtinModules);

export interface ImportGraph {
  /** Real paths of every file (and package directory) the config would load, the config first. */
  files: string[];
  /** Who imports each file, for messages: real path -> the importing file's real path. */
  importedBy: Map<string, string>;
}

export function staticImportGraph(configPath: string, skip: (specifier: string) => boolean): ImportGraph {
  const entry = realPathOrNull(configPath) ?? resolve(configPath);
  const files = [entry];
  const importedBy = new Map<string, string>();
  const seen = new Set(files);
  const add = (path: string, from: string): boolean => {
    if (seen.has(path)) return false;
    seen.add(path);
    files.push(path);
    importedBy.set(path, from);
    return true;
  };
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (!SOURCE_EXTENSIONS.includes(extname(file)) && file !== entry) continue;
    let source: string;
    try {
      source = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const specifier of specifiersOf(source)) {
      if (skip(specifier) || specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]!)) continue;
      if (specifier.startsWith(".") || isAbsolute(specifier) || specifier.startsWith("file:")) {
        const target = resolveFile(resolve(dirname(file), specifier.replace(/^file:\/\//, "")));
        if (target) add(target, file);
        continue;
      }
      const pkg = packageDir(specifier, dirname(file));
      if (!pkg) continue;
      add(pkg, file);
      const main = packageEntry(specifier, file, pkg);
      if (main) add(main, file);
    }
  }
  return { files, importedBy };
}

function specifiersOf(source: string): Set<string> {
  const found = new Set<string>();
  for (const pattern of SPECIFIERS) for (const match of source.matchAll(pattern)) found.add(match[1]!);
  return found;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A relative import as jiti resolves it: as written, with an extension added, `.js` written for `.ts`, or a directory index. */
function resolveFile(base: string): string | null {
  const stem = base.replace(/\.(?:[mc]?js|jsx)$/, "");
  const candidates = [base, ...SOURCE_EXTENSIONS.map((ext) => base + ext), ...SOURCE_EXTENSIONS.map((ext) => stem + ext), ...SOURCE_EXTENSIONS.map((ext) => join(base, `index${ext}`)), `${base}.json`];
  for (const candidate of candidates) if (isFile(candidate)) return realPathOrNull(candidate);
  return null;
}

/** The real directory of package `specifier` as Node's node_modules lookup finds it from `fromDir`. */
function packageDir(specifier: string, fromDir: string): string | null {
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(candidate)) return realPathOrNull(candidate);
    if (dirname(dir) === dir) return null;
  }
}

/** The file a package import loads; CommonJS resolution first, then the package.json `exports`/`main` an ES import uses. */
function packageEntry(specifier: string, fromFile: string, pkg: string): string | null {
  try {
    return realPathOrNull(createRequire(fromFile).resolve(specifier));
  } catch {
    // An ES-only package (exports with an `import` condition only): read it.
  }
  try {
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { exports?: unknown; main?: string; module?: string };
    const subpath = specifier.split("/").slice(specifier.startsWith("@") ? 2 : 1).join("/");
    const key = subpath ? `./${subpath}` : ".";
    const target = exportTarget(manifest.exports, key) ?? (subpath ? `./${subpath}` : manifest.main ?? "./index.js");
    return resolveFile(resolve(pkg, target));
  } catch {
    return null;
  }
}

function exportTarget(exports: unknown, key: string): string | null {
  if (typeof exports === "string") return key === "." ? exports : null;
  if (!exports || typeof exports !== "object") return null;
  const map = exports as Record<string, unknown>;
  const conditionsOnly = Object.keys(map).every((k) => !k.startsWith("."));
  const value = conditionsOnly ? (key === "." ? map : undefined) : map[key];
  return pickCondition(value);
}

function pickCondition(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return pickCondition(value[0]);
  if (!value || typeof value !== "object") return null;
  const map = value as Record<string, unknown>;
  for (const condition of ["import", "node", "default", "require"]) {
    if (condition in map) return pickCondition(map[condition]);
  }
  return null;
}
