// Loads bottle.config.ts (or .js/.mjs) with jiti and validates it. A config
// whose files are unchanged is served from a cache, so a no-op command does
// not pay for jiti and zod; see cache.ts for when that is safe.
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BottleError, EXIT_USAGE, errorMessage } from "../errors.js";
import {
  hashFiles,
  hashesBeforeEvaluation,
  isCacheableSource,
  readConfigCache,
  transpileCacheDir,
  unchangedSince,
  writeConfigCache,
} from "./cache.js";
import { renderProblems, type ConfigProblem } from "./errors.js";
import { hostProblems } from "./host-checks.js";
import type { BottleConfig } from "./resolved.js";

export interface LoadedConfig {
  config: BottleConfig;
  /** Absolute path of the config file. */
  path: string;
  dir: string;
  /** The config file and every local file it imports (what watch mode watches). */
  files: string[];
  fromCache: boolean;
}

export class ConfigError extends BottleError {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[], cause?: unknown) {
    super(renderProblems(file, problems), { exitCode: EXIT_USAGE, cause });
    this.file = file;
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** Use and refresh the evaluated-config cache and jiti's transpile cache (default true; BOTTLE_CONFIG_CACHE=0 disables both). */
  cache?: boolean;
}

const packageEntry = fileURLToPath(new URL("../index.js", import.meta.url));
const packageSources = dirname(packageEntry);

export async function loadConfig(configPath: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const path = resolve(configPath);
  const dir = dirname(path);
  const useCache = (options.cache ?? true) && process.env.BOTTLE_CONFIG_CACHE !== "0";

  if (useCache) {
    const cached = readConfigCache(path);
    if (cached) {
      const problems = hostProblems(cached.config);
      if (problems.length) throw new ConfigError(path, problems);
      return { config: cached.config, path, dir, files: cached.files, fromCache: true };
    }
  }

  const before = useCache ? hashesBeforeEvaluation(path) : null;
  const { raw, files } = await evaluate(path, useCache ? transpileCacheDir() : false);
  const { validateConfig } = await import("./validate.js");
  const result = validateConfig(raw, dir);
  if (!result.ok) throw new ConfigError(path, result.problems);

  if (before) {
    const hashed = hashFiles(files);
    // A file saved while it was evaluated (watch reloading mid-save) would
    // pair its new hash with the old text's value: leave it to the next load.
    if (hashed && unchangedSince(before, hashed) && hashed.every((f) => isCacheableSource(f.source))) {
      writeConfigCache(path, result.config, hashed);
    }
  }
  return { config: result.config, path, dir, files, fromCache: false };
}

/** Evaluates the config module afresh and reports which local files it loaded. */
async function evaluate(path: string, fsCache: string | false): Promise<{ raw: unknown; files: string[] }> {
  const { createJiti } = await import("jiti");
  const requireCache = createRequire(import.meta.url).cache;
  const before = new Set(Object.keys(requireCache));
  const jiti = createJiti(import.meta.url, {
    moduleCache: true,
    fsCache,
    alias: { bottle: packageEntry },
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
      ? `failed to load: ${errorMessage(error)}`
      : "no such file; pass --config PATH or create bottle.config.ts";
    throw new ConfigError(path, [{ path: "", message }], error);
  }
  // Not jiti's `default: true`: it falls back to the whole module, so named
  // exports (or an empty file) would be validated as if they were the config.
  if (!("default" in module)) {
    dropAdded();
    throw new ConfigError(path, [{ path: "", message: "has no default export: write `export default defineConfig({ ... })`" }]);
  }
  const raw = module.default;
  const local = dropAdded().filter(
    (file) => file !== path && !file.includes("/node_modules/") && !file.startsWith(`${packageSources}/`),
  );
  return { raw, files: [path, ...local] };
}

async function exists(path: string): Promise<boolean> {
  const { access } = await import("node:fs/promises");
  return access(path).then(
    () => true,
    () => false,
  );
}
