// Opening a bottle for a command: find and load the config, pick the
// backend, and work out the stage and run dirs. Nothing is written here.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Backend } from "../backends/types.js";
import { chooseBackendName, loadBackend } from "../backends/index.js";
import { ConfigError, loadConfig, type LoadedConfig } from "../config/load.js";
import { confinementProblems } from "../config/host-checks.js";
import type { BottleContext } from "../context.js";
import { usageError } from "../errors.js";
import { toolSearchPath } from "../host-tools.js";
import { runDir, stageDir } from "../paths.js";

export interface Session {
  loaded: LoadedConfig;
  backend: Backend;
  ctx: BottleContext;
}

const DEFAULT_NAMES = ["bottle.config.ts", "bottle.config.mts", "bottle.config.js", "bottle.config.mjs"];

export function findConfig(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) return resolve(cwd, explicit);
  for (const name of DEFAULT_NAMES) {
    const path = join(cwd, name);
    if (existsSync(path)) return path;
  }
  throw usageError(`no bottle.config.ts in ${cwd}; pass --config PATH`);
}

export async function openSession(options: { config?: string | undefined; stage?: string | undefined }): Promise<Session> {
  const loaded = await loadConfig(findConfig(options.config));
  const choice = chooseBackendName(loaded.config.backend);
  const backend = await loadBackend(choice.name, choice.source);
  const ctx: BottleContext = {
    config: { ...loaded.config, backend: backend.name },
    configPath: loaded.path,
    stageDir: checkedStage(stageDir(loaded.dir, loaded.config.name, options.stage)),
    runDir: runDir(loaded.config.name),
    platform: process.platform,
    pathEnv: toolSearchPath(process.env.PATH ?? ""),
  };
  const problems = confinementProblems(ctx.config, { configFiles: loaded.modules, stageDir: ctx.stageDir, runDir: ctx.runDir });
  if (problems.length) throw new ConfigError(loaded.path, problems);
  return { loaded, backend, ctx };
}

function checkedStage(dir: string): string {
  try {
    if (!statSync(dir).isDirectory()) throw usageError(`--stage ${dir}: not a directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return dir;
}
