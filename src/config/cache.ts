// A cache of evaluated, validated configs, keyed by the config's absolute
// path and the content hashes of the config file and its local imports.
//
// Serving from it is safe only when evaluating the config again could not
// give a different value. So a config is cached only if none of its files
// reads the environment, the clock, randomness or the file system, and every
// import is a relative file or "bottle" (packages are not hashed).
// BOTTLE_CONFIG_CACHE=0 turns the cache off.
//
// An entry is the raw default export, served only when its first file is the
// config itself and every listed file still hashes the same, and validated
// again when served. The cache directory must be this user's, mode 0700;
// otherwise it is not used (a warning says why).
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const CACHE_FORMAT = 2;

interface CacheFile {
  format: number;
  configPath: string;
  /** The config file first, then every local file it imported. */
  files: { path: string; hash: string }[];
  /** The default export as evaluated; validated again each time it is served. */
  raw: unknown;
}

export interface HashedFile {
  path: string;
  hash: string;
  source: string;
}

/** `<XDG_CACHE_HOME>/bottle`: the config cache and jiti's transpile cache live below it. */
export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "bottle");
}

/**
 * `<cache>/bottle/<leaf>`, made 0700 if missing, or null (with the reason)
 * when it or `<cache>/bottle` is not a real directory of this user's that
 * nobody else can enter: another user who can write there could plant an
 * evaluated config or transpiled code for bottle to run.
 */
function privateCacheDir(leaf: string, create: boolean): { dir: string } | { problem: string } | null {
  const root = cacheRoot();
  const dir = join(root, leaf);
  if (!create && !lstatSync(dir, { throwIfNoEntry: false })) return null;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return { problem: `cannot create ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  const uid = process.getuid?.();
  for (const path of [root, dir]) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return { problem: `${path} vanished` };
    if (st.isSymbolicLink()) return { problem: `${path} is a symlink` };
    if (!st.isDirectory()) return { problem: `${path} is not a directory` };
    if (uid !== undefined && st.uid !== uid) return { problem: `${path} is owned by uid ${st.uid}, not by you (uid ${uid})` };
    if ((st.mode & 0o077) !== 0) return { problem: `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}; it must be 0700` };
  }
  return { dir };
}

const warned = new Set<string>();

function usableCacheDir(leaf: string, warn: (message: string) => void, create = true): string | null {
  const result = privateCacheDir(leaf, create);
  if (result === null) return null;
  if ("dir" in result) return result.dir;
  if (!warned.has(result.problem)) {
    warned.add(result.problem);
    warn(`not using the ${leaf === "config" ? "config" : "transpile"} cache: ${result.problem} (fix it, e.g. \`chmod 700\`, or remove it; BOTTLE_CONFIG_CACHE=0 turns caching off)`);
  }
  return null;
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
  const key = createHash("sha256").update(configPath).digest("hex").slice(0, 24);
  return join(dir, `${key}.json`);
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

/**
 * The cached raw value of the config, when the entry is for this config (its
 * first file is the config itself) and every file it lists still has the
 * content it was evaluated from. The caller validates the value again.
 */
export function readConfigCache(dir: string, configPath: string): { raw: unknown; files: string[] } | null {
  const entry = readEntry(dir, configPath);
  if (!entry || entry.format !== CACHE_FORMAT || entry.configPath !== configPath) return null;
  if (entry.files[0]?.path !== configPath || !entry.files.every((f) => typeof f?.path === "string" && typeof f.hash === "string")) return null;
  const current = hashFiles(entry.files.map((f) => f.path));
  if (!current || current.some((f, i) => f.hash !== entry.files[i]!.hash)) return null;
  return { raw: entry.raw, files: entry.files.map((f) => f.path) };
}

export function writeConfigCache(dir: string, configPath: string, raw: unknown, files: readonly HashedFile[]): void {
  if (files[0]?.path !== configPath) return;
  const entry: CacheFile = {
    format: CACHE_FORMAT,
    configPath,
    files: files.map(({ path, hash }) => ({ path, hash })),
    raw,
  };
  const target = cachePath(dir, configPath);
  try {
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600, flag: "wx" });
    renameSync(temp, target);
  } catch {
    // The cache is an optimisation; a read-only home must not fail the command.
  }
}
