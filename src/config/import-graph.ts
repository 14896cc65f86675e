// The files a config would load, found without running any of them: its
// import and require specifiers are read from the source text and resolved
// as Node and jiti would, recursively, each file by its real path (so a
// `node_modules/evil` symlink counts where it points). Packages count as
// their whole directory, which is what a confinement check needs: a package
// whose real directory lies in a guest-writable workspace is guest code.
// Where resolution could go more than one way (export conditions), every
// file it could reach counts: a confinement check errs on the side of more.
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
      for (const entry of packageEntries(specifier, file, pkg)) add(entry, file);
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

/**
 * The files a package import may load, by real path: what CommonJS
 * resolution finds, and every target the package.json `exports` (or `main`)
 * offers under any condition Node or jiti may pick. More than one when the
 * conditions differ: a confinement check must see each file that could run.
 */
function packageEntries(specifier: string, fromFile: string, pkg: string): string[] {
  const found = new Set<string>();
  try {
    const entry = realPathOrNull(createRequire(fromFile).resolve(specifier));
    if (entry) found.add(entry);
  } catch {
    // No CommonJS entry (an ES-only package): the manifest says.
  }
  let manifest: { exports?: unknown; main?: string };
  try {
    manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as typeof manifest;
  } catch {
    return [...found];
  }
  const subpath = specifier.split("/").slice(specifier.startsWith("@") ? 2 : 1).join("/");
  const targets = exportTargets(manifest.exports, subpath ? `./${subpath}` : ".");
  if (targets.length === 0) targets.push(subpath ? `./${subpath}` : manifest.main ?? "./index.js");
  for (const target of targets) {
    const file = resolveFile(resolve(pkg, target));
    if (file) found.add(file);
  }
  return [...found];
}

function exportTargets(exports: unknown, key: string): string[] {
  if (typeof exports === "string" || Array.isArray(exports)) return key === "." ? conditionTargets(exports) : [];
  if (!exports || typeof exports !== "object") return [];
  const map = exports as Record<string, unknown>;
  if (Object.keys(map).every((k) => !k.startsWith("."))) return key === "." ? conditionTargets(map) : [];
  if (key in map) return conditionTargets(map[key]);
  return patternTargets(map, key);
}

/** A subpath pattern (`"./*": "./src/*.js"`) matching `key`, its `*` filled in; the longest prefix wins, as in Node. */
function patternTargets(map: Record<string, unknown>, key: string): string[] {
  let best: { pattern: string; star: number } | null = null;
  for (const pattern of Object.keys(map)) {
    const star = pattern.indexOf("*");
    if (star < 0 || pattern.indexOf("*", star + 1) >= 0) continue;
    const [prefix, suffix] = [pattern.slice(0, star), pattern.slice(star + 1)];
    if (key.length < pattern.length || !key.startsWith(prefix) || !key.endsWith(suffix)) continue;
    if (!best || star > best.star || (star === best.star && pattern.length > best.pattern.length)) best = { pattern, star };
  }
  if (!best) return [];
  const matched = key.slice(best.star, key.length - (best.pattern.length - best.star - 1));
  return conditionTargets(map[best.pattern]).map((target) => target.replaceAll("*", matched));
}

/** The conditions an import or require from a config may match (Node's order is the package's key order; any of them may win). */
const CONDITIONS = new Set(["import", "require", "node", "module-sync", "default"]);

/** Every target a conditional export may resolve to: each alternative of an array, each matching condition's. */
function conditionTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(conditionTargets);
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([condition, target]) => (CONDITIONS.has(condition) ? conditionTargets(target) : []));
}
