// A cache of evaluated, validated configs, keyed by the config's absolute
// path and the content hashes of the config file and its local imports.
//
// Serving from it is safe only when evaluating the config again could not
// give a different value. So a config is cached only if none of its files
// reads the environment, the clock, randomness or the file system, and every
// import is a relative file or bottle itself (packages are not hashed).
// BOTTLE_CONFIG_CACHE=0 turns the cache off.
//
// An entry is the validated config, served only when its first file is the
// config itself, every listed file still hashes the same, it was validated
// by this very validator (validator-fingerprint.ts), and its seal (a hash of
// all of that and the value) still matches: so it is exactly what this
// bottle's validation made of these files, and a no-op command needs no
// schema library. The host checks (host-checks.ts) are run again.
//
// The seal is no secret: whoever can write an entry can seal it. What keeps
// others out is the directory: it gets the run dir's checks (yours, 0700,
// nobody else can write above it; src/lib/private-dir.ts), a directory that
// fails them is not used (a warning says why), and it is never used inside a
// workspace a guest can write. Whoever passes those can already run code as
// you (the transpile cache next to it holds code jiti runs; a valid config
// alone can name a host command as its supervisor), so validating a served
// value again would stop nobody.
import { readFileSync } from "node:fs";
import module from "node:module";
import { join } from "node:path";
import { BottleError, errorMessage } from "../lib/errors.js";
import { sha256Hex } from "../lib/hash.js";
import { bottleCacheDir } from "../lib/xdg.js";
import { checkPrivateDir } from "../lib/private-dir.js";
import type { ConfigProblem } from "./errors.js";
import type { GuardedDir, KnownWorkspaces } from "./known-workspaces.js";
import type { BottleConfig } from "./resolved.js";
import { validatorFingerprint } from "./validator-fingerprint.js";
import { isBottleImport } from "./package-name.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { isInside, resolvedPath } from "../lib/path-checks.js";

const CACHE_FORMAT = 3;

interface CacheFile {
  format: number;
  configPath: string;
  /** The config file first, then every local file it imported. */
  files: { path: string; hash: string }[];
  /** What validated it (validatorFingerprint). */
  validator: string;
  /** The default export as validated, and the warnings its validation gave. */
  config: BottleConfig;
  warnings: ConfigProblem[];
  /** sealOf the fields above: the entry as bottle wrote it. */
  seal: string;
}

/** A validated config served from the cache, and the files it was evaluated from. */
export interface CachedConfig {
  config: BottleConfig;
  warnings: ConfigProblem[];
  files: string[];
}

export interface HashedFile {
  path: string;
  hash: string;
  source: string;
}

/** `<XDG_CACHE_HOME>/bottle`: the config cache and jiti's transpile cache live below it. */
export function cacheRoot(): string {
  return bottleCacheDir();
}

const CACHE_NAMES = { config: "config cache", jiti: "transpile cache", "node-compile-cache": "compile cache" } as const;
type CacheLeaf = keyof typeof CACHE_NAMES;

const warned = new Set<string>();

/**
 * `<cache>/bottle/<leaf>`, made 0700 if missing, or null when it may not be
 * used (warned once) or, unless `create`, does not exist yet. It must pass
 * the run dir's checks: another user who could write there, or above it,
 * could plant an evaluated config or transpiled code for bottle to run.
 */
function usableCacheDir(leaf: CacheLeaf, warn: (message: string) => void, create = true): string | null {
  const dir = join(cacheRoot(), leaf);
  try {
    return checkPrivateDir(dir, { what: CACHE_NAMES[leaf], privateLevels: 2, create, fix: "bottle goes on without it (BOTTLE_CONFIG_CACHE=0 turns caching off)" }) ? dir : null;
  } catch (error) {
    const message = error instanceof BottleError ? error.message : `refusing to use the ${CACHE_NAMES[leaf]} ${dir}: ${errorMessage(error)}`;
    if (!warned.has(message)) {
      warned.add(message);
      warn(message);
    }
    return null;
  }
}

/** True (with a warning) when a guest-writable dir holds bottle's caches: forged values, or code that would run as bottle or the config. */
export function cacheIsGuarded(guarded: readonly GuardedDir[], warn: (message: string) => void): boolean {
  const root = resolvedPath(cacheRoot());
  const holder = guarded.find((g) => isInside(resolvedPath(g.dir), root));
  if (holder) warn(`not using bottle's caches: ${root} is inside ${resolvedPath(holder.dir)}, which ${holder.why}; set XDG_CACHE_HOME outside it`);
  return holder !== undefined;
}

/**
 * Whether bottle's caches may be read for `configPath` (null: a command
 * that loads no config): its writable workspaces must be known before it
 * is evaluated (it was evaluated here before; until then it is evaluated
 * with every cache off), and the cache dir must be outside every workspace
 * a guest on this machine can write (known-workspaces.ts).
 */
export function cachesReadable(configPath: string | null, known: KnownWorkspaces, warn: (message: string) => void): boolean {
  if (!known.trusted) return false;
  if (configPath !== null && known.of(configPath) === null) return false;
  return !cacheIsGuarded(known.all, warn);
}

/**
 * Node's on-disk compile cache (22.1+), private to this user: V8 runs the
 * code it finds there for a source whose hash matches, so another user who
 * could write it could run code as you.
 */
export function compileCacheDir(warn: (message: string) => void): string | null {
  return usableCacheDir("node-compile-cache", warn);
}

/**
 * Turns on Node's compile cache (a no-op on Node 20, which has none) for the
 * modules loaded from now on, where cachesReadable allows: a guest that can
 * write it would have V8 run its code as bottle's. A command that loads a
 * config calls this once it has (until then that config's workspaces are
 * not known); the others, first thing. BOTTLE_COMPILE_CACHE=0 turns it off.
 * `known` is read only where there is a compile cache to turn on.
 */
export function enableCompileCache(configPath: string | null, warn: (message: string) => void, known: () => KnownWorkspaces): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (!enable || process.env.BOTTLE_COMPILE_CACHE === "0") return;
  if (!cachesReadable(configPath, known(), warn)) return;
  const dir = compileCacheDir(warn);
  try {
    if (dir) enable(dir);
  } catch {
    // Only an optimisation.
  }
}

/**
 * jiti's transpile cache, private to this user. Left to itself jiti writes
 * to os.tmpdir()/jiti: on a shared /tmp, world-readable copies of the config,
 * and a cache another local user could plant code in before we read it.
 */
export function transpileCacheDir(warn: (message: string) => void): string | false {
  return usableCacheDir("jiti", warn) ?? false;
}

function cachePath(dir: string, configPath: string): string {
  const key = sha256Hex(configPath).slice(0, 24);
  return join(dir, `${key}.json`);
}

export function hashFiles(paths: readonly string[]): HashedFile[] | null {
  try {
    return paths.map((path) => {
      const source = readFileSync(path, "utf8");
      return { path, hash: sha256Hex(source), source };
    });
  } catch {
    return null;
  }
}

const IMPORT_SPECIFIER = /\b(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']/g;
const IMPURE = new RegExp(
  [
    /\bprocess\b|\bglobalThis\b|\bglobal\b/.source, // the environment, and the globals that reach it
    /\bDate\b|\bperformance\b|\bMath\.random\b|\bcrypto\b/.source, // the clock, randomness
    /\bIntl\b|\btoLocale\w*/.source, // locale and time zone, from the environment
    /\brequire\b|\bmodule\b|\bimport\s*\(|\bfetch\s*\(/.source, // loading or fetching anything, even via an alias
    /\beval\b|\bFunction\b/.source, // code built from strings, which could spell any of the above
  ].join("|"),
);

export function isCacheableSource(source: string): boolean {
  if (IMPURE.test(source)) return false;
  for (const match of source.matchAll(IMPORT_SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? "";
    if (isBottleImport(specifier) || specifier.startsWith("./") || specifier.startsWith("../")) continue;
    return false;
  }
  return true;
}

/**
 * The evaluated-config cache of this user, or null when it may not be used
 * (warned) or, unless `create`, does not exist yet.
 */
export function configCacheDir(warn: (message: string) => void, create: boolean): string | null {
  return usableCacheDir("config", warn, create);
}

function readEntry(dir: string, configPath: string): CacheFile | null {
  try {
    const entry = JSON.parse(readFileSync(cachePath(dir, configPath), "utf8")) as CacheFile;
    return entry && typeof entry === "object" && Array.isArray(entry.files) ? entry : null;
  } catch {
    return null;
  }
}

/**
 * Content hashes, by path, of the config and of the files its last cached
 * evaluation imported (those that exist now). Taken before evaluating, so a
 * file saved mid-evaluation is not cached under its new hash with the value
 * of its old text (see unchangedSince).
 */
export function hashesBeforeEvaluation(dir: string | null, configPath: string): Map<string, string> {
  let paths = [configPath];
  const entry = dir ? readEntry(dir, configPath) : null;
  if (entry?.configPath === configPath) paths = [configPath, ...entry.files.map((f) => f.path)];
  const hashes = new Map<string, string>();
  for (const path of new Set(paths)) {
    try {
      hashes.set(path, sha256Hex(readFileSync(path, "utf8")));
    } catch {
      // Gone: if it is imported again it is new, as on a first load.
    }
  }
  return hashes;
}

/** True when no file hashed before evaluation now holds something else. */
export function unchangedSince(before: ReadonlyMap<string, string>, after: readonly HashedFile[]): boolean {
  return after.every((file) => !before.has(file.path) || before.get(file.path) === file.hash);
}

/** The hash binding an entry's value to its config, files and validator. */
export function sealOf(entry: Omit<CacheFile, "seal">): string {
  const { format, configPath, files, validator, config, warnings } = entry;
  return sha256Hex(JSON.stringify([format, configPath, files, validator, config, warnings]));
}

/**
 * The cached validated config, when the entry is for this config (its first
 * file is the config itself), every file it lists still has the content it
 * was evaluated from, this validator validated it, and its seal matches.
 * The caller runs the host checks again.
 */
export function readConfigCache(dir: string, configPath: string): CachedConfig | null {
  const entry = readEntry(dir, configPath);
  if (!entry || entry.format !== CACHE_FORMAT || entry.configPath !== configPath) return null;
  if (entry.files[0]?.path !== configPath || !entry.files.every((f) => typeof f?.path === "string" && typeof f.hash === "string")) return null;
  if (entry.validator !== validatorFingerprint() || entry.seal !== sealOf(entry)) return null;
  const current = hashFiles(entry.files.map((f) => f.path));
  if (!current || current.some((f, i) => f.hash !== entry.files[i]!.hash)) return null;
  return { config: entry.config, warnings: entry.warnings, files: entry.files.map((f) => f.path) };
}

export function writeConfigCache(dir: string, configPath: string, validated: { config: BottleConfig; warnings: ConfigProblem[] }, files: readonly HashedFile[]): void {
  if (files[0]?.path !== configPath) return;
  const unsealed: Omit<CacheFile, "seal"> = {
    format: CACHE_FORMAT,
    configPath,
    files: files.map(({ path, hash }) => ({ path, hash })),
    validator: validatorFingerprint(),
    config: validated.config,
    warnings: validated.warnings,
  };
  try {
    writeFileAtomic(cachePath(dir, configPath), JSON.stringify({ ...unsealed, seal: sealOf(unsealed) }));
  } catch {
    // The cache is an optimisation; a read-only home must not fail the command.
  }
}
