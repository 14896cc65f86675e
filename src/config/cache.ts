// A cache of evaluated, validated configs, keyed by the config's absolute
// path and the content hashes of the config file and its local imports.
//
// Serving from it is safe only when evaluating the config again could not
// give a different value. So a config is cached only if none of its files
// reads the environment, the clock, randomness or the file system, and every
// import is a relative file or "bottle" (packages are not hashed).
// BOTTLE_CONFIG_CACHE=0 turns the cache off.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BottleConfig } from "./resolved.js";

const CACHE_FORMAT = 1;

interface CacheFile {
  format: number;
  /** Changes when bottle's validation code changes, so old defaults are not served. */
  validator: string;
  configPath: string;
  files: { path: string; hash: string }[];
  config: BottleConfig;
}

export interface HashedFile {
  path: string;
  hash: string;
  source: string;
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "bottle", "config");
}

/**
 * jiti's transpile cache, private to this user. Left to itself jiti writes
 * to os.tmpdir()/jiti: on a shared /tmp, world-readable copies of the config,
 * and a cache another local user could plant code in before we read it.
 */
export function transpileCacheDir(): string | false {
  const dir = join(cacheDir(), "..", "jiti");
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  } catch {
    return false;
  }
}

function cachePath(configPath: string): string {
  const key = createHash("sha256").update(configPath).digest("hex").slice(0, 24);
  return join(cacheDir(), `${key}.json`);
}

/**
 * Every module of this directory (validate, schema, resolved defaults, ...):
 * the cached value depends on all of them, and a rebuild may re-emit
 * schema.js alone (tsc skips dependants whose types did not change).
 */
function validatorStamp(): string {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".js"))
      .sort()
      .map((name) => {
        const st = statSync(join(dir, name));
        return `${name}:${st.size}:${st.mtimeMs}`;
      })
      .join(",");
  } catch {
    return "unknown";
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function hashFiles(paths: readonly string[]): HashedFile[] | null {
  try {
    return paths.map((path) => {
      const source = readFileSync(path, "utf8");
      return { path, hash: sha256(source), source };
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
    if (specifier === "bottle" || specifier.startsWith("./") || specifier.startsWith("../")) continue;
    return false;
  }
  return true;
}

/**
 * Content hashes, by path, of the config and of the files its last cached
 * evaluation imported (those that exist now). Taken before evaluating, so a
 * file saved mid-evaluation is not cached under its new hash with the value
 * of its old text (see unchangedSince).
 */
export function hashesBeforeEvaluation(configPath: string): Map<string, string> {
  let paths = [configPath];
  try {
    const entry = JSON.parse(readFileSync(cachePath(configPath), "utf8")) as CacheFile;
    if (entry.configPath === configPath) paths = [configPath, ...entry.files.map((f) => f.path)];
  } catch {
    // No previous entry: only the config itself is known before evaluating.
  }
  const hashes = new Map<string, string>();
  for (const path of new Set(paths)) {
    try {
      hashes.set(path, sha256(readFileSync(path, "utf8")));
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

export function readConfigCache(configPath: string): { config: BottleConfig; files: string[] } | null {
  let entry: CacheFile;
  try {
    entry = JSON.parse(readFileSync(cachePath(configPath), "utf8")) as CacheFile;
  } catch {
    return null;
  }
  if (entry.format !== CACHE_FORMAT || entry.configPath !== configPath || entry.validator !== validatorStamp()) return null;
  const current = hashFiles(entry.files.map((f) => f.path));
  if (!current || current.some((f, i) => f.hash !== entry.files[i]?.hash)) return null;
  return { config: entry.config, files: entry.files.map((f) => f.path) };
}

export function writeConfigCache(configPath: string, config: BottleConfig, files: readonly HashedFile[]): void {
  const entry: CacheFile = {
    format: CACHE_FORMAT,
    validator: validatorStamp(),
    configPath,
    files: files.map(({ path, hash }) => ({ path, hash })),
    config,
  };
  const target = cachePath(configPath);
  try {
    mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, target);
  } catch {
    // The cache is an optimisation; a read-only home must not fail the command.
  }
}
