// Loads bottle.config.ts (or .js/.mjs) with jiti and validates it. A config
// whose files are unchanged is served, validated, from a cache, so a no-op
// command loads neither jiti nor zod; see cache.ts for when that is safe.
import { createRequire } from "node:module";
import { CONFIG_IMPORT_NAMES, isBottleImport } from "./package-name.js";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage } from "../lib/errors.js";
import {
  cacheIsGuarded,
  configCacheDir,
  hashFiles,
  hashesBeforeEvaluation,
  isCacheableSource,
  readConfigCache,
  transpileCacheDir,
  unchangedSince,
  writeConfigCache,
} from "./cache.js";
import { configError, type ConfigProblem } from "./errors.js";
import { hostProblems, writableWorkspaces } from "./host-checks.js";
import { staticImportGraph } from "./import-graph.js";
import { knownWorkspaces, rememberWorkspaces, type KnownWorkspaces } from "./known-workspaces.js";
import type { BottleConfig } from "./resolved.js";
import { isInside, resolvedPath } from "../lib/path-checks.js";

export interface LoadedConfig {
  config: BottleConfig;
  /** Absolute path of the config file. */
  path: string;
  dir: string;
  /** The config file and every local file it imports (what watch mode watches). */
  files: string[];
  /**
   * Real paths of everything the config loaded: its files, every package
   * directory and module it imported (through node_modules symlinks too).
   * What the confinement check compares with the writable workspace.
   */
  modules: string[];
  fromCache: boolean;
}

export interface LoadOptions {
  /**
   * Use and refresh the evaluated-config cache and jiti's transpile cache
   * (default true; BOTTLE_CONFIG_CACHE=0 disables both). Neither is read for
   * a config evaluated here for the first time, nor used at all inside a
   * workspace a guest can write (cache.ts, cachesReadable).
   */
  cache?: boolean;
  /**
   * Directories a guest can write that are known before evaluating: the
   * registered bottles' writable workspaces (the caller reads the registry).
   * A config that would import a file inside one is refused before any of
   * its code runs, and no cache inside one is used.
   */
  guardedDirs?: readonly { dir: string; why: string }[];
  /** Where warnings go (an unusable cache dir); default stderr. */
  warn?: (message: string) => void;
  /** The guest-writable workspaces bottle knows of (known-workspaces.ts); read from the state dir when not given. */
  known?: KnownWorkspaces;
}

const packageEntry = fileURLToPath(new URL("../index.js", import.meta.url));
const packageSources = dirname(packageEntry);
/** jiti loads its own helpers (babel) into the require cache while evaluating; resolved only then (a cached config never loads jiti). */
const jitiDir = (): string => `${dirname(dirname(createRequire(import.meta.url).resolve("jiti")))}/`;

export async function loadConfig(configPath: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const path = resolve(configPath);
  const dir = dirname(path);
  const warn = options.warn ?? ((message: string) => void process.stderr.write(`warning: ${message}\n`));
  const guarded = options.guardedDirs ?? [];
  const workspaces = options.known ?? knownWorkspaces(process.env, guarded);
  const caching = (options.cache ?? true) && process.env.BOTTLE_CONFIG_CACHE !== "0";
  // Written only outside every guest-writable workspace; read (a served
  // value, jiti's transpiled code) only once this config's own are known too.
  let writable = caching && workspaces.trusted && !cacheIsGuarded([...workspaces.all, ...guarded], warn);
  const readable = writable && workspaces.of(path) !== null;
  const cacheDir = readable ? configCacheDir(warn, false) : null;
  if (cacheDir) {
    const cached = readConfigCache(cacheDir, path);
    if (cached) {
      const real = cached.files.map(resolvedPath);
      refuseGuardedImports(path, { files: real, importedBy: new Map(real.slice(1).map((f) => [f, real[0]!])) }, guarded);
      // Validated when cached, by this validator; what the host holds may have changed since.
      const canWrite = guestCanWrite(cached.config, cacheDir, warn);
      if (!canWrite && hostProblems(cached.config).length === 0) {
        warnAbout(path, cached.warnings, warn);
        return { config: cached.config, path, dir, files: cached.files, modules: real, fromCache: true };
      }
      // A cache its guest could forge, or a host that changed under it (a
      // workspace gone): evaluate it afresh, which reports the problem.
      if (canWrite) writable = false;
    }
  }

  const graph = staticImportGraph(path, isBottleImport);
  refuseGuardedImports(path, graph, guarded);

  const before = writable ? hashesBeforeEvaluation(cacheDir, path) : null;
  const { raw, files, loaded } = await evaluate(path, readable && writable ? transpileCacheDir(warn) : false);
  const { validateConfig } = await import("./validate.js");
  const result = validateConfig(raw, dir);
  if (!result.ok) throw configError(path, result.problems);
  rememberWorkspaces(path, writableWorkspaces(result.config), workspaces);

  if (before) {
    const hashed = hashFiles(files);
    // A file saved while it was evaluated (watch reloading mid-save) would
    // pair its new hash with the old text's value: leave it to the next load.
    if (hashed && unchangedSince(before, hashed) && hashed.every((f) => isCacheableSource(f.source))) {
      const dir = cacheDir ?? configCacheDir(warn, true);
      if (dir && !guestCanWrite(result.config, dir, warn)) writeConfigCache(dir, path, result, hashed);
    }
  }
  const modules = [...new Set([...graph.files, ...files.map(resolvedPath), ...loaded.map(resolvedPath)])];
  warnAbout(path, result.warnings, warn);
  return { config: result.config, path, dir, files, modules, fromCache: false };
}

/** A valid config's warnings (a write-anywhere host allowed by hand), one line each, at every load. */
function warnAbout(path: string, warnings: readonly ConfigProblem[], warn: (message: string) => void): void {
  for (const { path: field, message } of warnings) warn(`${path}: ${field}: ${message}`);
}

/** True (with a warning) when the config's own writable workspace holds the cache dir: its guest could forge entries. */
function guestCanWrite(config: BottleConfig, cacheDir: string, warn: (message: string) => void): boolean {
  const [workspace] = writableWorkspaces(config);
  if (workspace === undefined || !isInside(workspace, resolvedPath(cacheDir))) return false;
  warn(`not using the config cache: ${cacheDir} is inside the workspace ${workspace}, which the guest can write; set XDG_CACHE_HOME outside it`);
  return true;
}

/** Refuses, before evaluating anything, a config that would load a file from a guest-writable directory. */
function refuseGuardedImports(path: string, graph: { files: string[]; importedBy: Map<string, string> }, guarded: readonly { dir: string; why: string }[]): void {
  const problems: ConfigProblem[] = [];
  for (const { dir, why } of guarded) {
    const real = resolvedPath(dir);
    for (const file of graph.files.filter((f) => isInside(real, f))) {
      const by = graph.importedBy.get(file);
      const what = by ? `would load ${file} (imported by ${by})` : `is itself ${file}`;
      problems.push({ path: "", message: `${what}, inside ${real}, which ${why}; nothing was evaluated. Move it out of the workspace` });
    }
  }
  if (problems.length) throw configError(path, problems);
}

/** Where in the config's own files an error was thrown (its stack's first frame outside node_modules and bottle), or "". */
function thrownAt(error: unknown): string {
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  // bottle's own files: dist/src/index.js's package.
  const own = resolve(packageSources, "..", "..");
  for (const match of stack.matchAll(/(\/[^\s():]+):(\d+):(\d+)/g)) {
    const [, file, line, column] = match;
    if (file!.includes("/node_modules/") || file!.startsWith(`${own}/`) || file!.startsWith("node:")) continue;
    return ` (at ${file}:${line}:${column})`;
  }
  return "";
}

/** Evaluates the config module afresh and reports which local files it loaded. */
async function evaluate(path: string, fsCache: string | false): Promise<{ raw: unknown; files: string[]; loaded: string[] }> {
  const { createJiti } = await import("jiti");
  const requireCache = createRequire(import.meta.url).cache;
  const before = new Set(Object.keys(requireCache));
  const jiti = createJiti(import.meta.url, {
    moduleCache: true,
    fsCache,
    alias: Object.fromEntries(CONFIG_IMPORT_NAMES.map((name) => [name, packageEntry])),
  });
  const dropAdded = (): string[] => {
    // Forget what this load added so the next load (watch mode) evaluates afresh.
    const added = Object.keys(requireCache).filter((key) => !before.has(key));
    for (const key of added) delete requireCache[key];
    return added;
  };
  let module: Record<string, unknown>;
  try {
    module = await jiti.import<Record<string, unknown>>(path);
  } catch (error) {
    dropAdded();
    const message = (await exists(path))
      ? `failed to load: ${errorMessage(error).split("\n")[0]}${thrownAt(error)}`
      : "no such file; pass --config PATH or create bottle.config.ts";
    throw configError(path, [{ path: "", message }], error);
  }
  // Not jiti's `default: true`: it falls back to the whole module, so named
  // exports (or an empty file) would be validated as if they were the config.
  if (!("default" in module)) {
    dropAdded();
    throw configError(path, [{ path: "", message: "has no default export: write `export default defineConfig({ ... })`" }]);
  }
  const raw = module.default;
  const jitiSources = jitiDir();
  const loaded = dropAdded().filter((file) => file !== path && !file.startsWith(`${packageSources}/`) && !file.startsWith(jitiSources));
  const local = loaded.filter((file) => !file.includes("/node_modules/"));
  return { raw, files: [path, ...local], loaded };
}

async function exists(path: string): Promise<boolean> {
  const { access } = await import("node:fs/promises");
  return access(path).then(
    () => true,
    () => false,
  );
}
