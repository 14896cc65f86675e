// Opening a bottle for a command: find and load the config, pick the
// backend, and work out the stage and run dirs. Nothing is written here.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { chooseBackendName, loadBackend, type Backend } from "./backends.js";
import { loadConfig, type LoadedConfig } from "../config/load.js";
import { configError } from "../config/errors.js";
import { confinementProblems, writableWorkspaces } from "../config/host-checks.js";
import type { BuildContext } from "../backends/smolmachines/context.js";
import { usageError } from "../lib/errors.js";
import { trustedSearchPath } from "../lib/host-tools.js";
import { packageRoot } from "../lib/package-root.js";
import { listBottles, workspaceHolding, workspacesOf, type BottleEntry } from "./registry.js";
import { noticeOnce } from "./notice-once.js";
import { enableCompileCacheFor } from "./compile-cache.js";
import { checkStageDir, stageDir } from "../backends/smolmachines/stage-dir.js";
import { runDir } from "../backends/smolmachines/run-dir.js";
import { isSlug, SLUG_MAX } from "../config/slug.js";
import { projectFor } from "./projects.js";

/** An opened bottle: its loaded config, its backend (and graph), and the context its tasks are given. */
export interface Session {
  readonly loaded: LoadedConfig;
  readonly backend: Backend;
  readonly ctx: BuildContext;
}

const DEFAULT_NAMES = ["bottle.config.ts", "bottle.config.mts", "bottle.config.js", "bottle.config.mjs"];

/**
 * The config a command runs with: --config; else, inside a project `bottle
 * init` set up, that project's config (never a file in the project, which
 * its agent can write); else ./bottle.config.ts.
 */
export function findConfig(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw usageError(`--config ${explicit}: ${path} is a directory; pass the config file in it (${join(path, "bottle.config.ts")})`);
    }
    return path;
  }
  const project = projectFor(cwd);
  if (project) return project.config;
  for (const name of DEFAULT_NAMES) {
    const path = join(cwd, name);
    if (existsSync(path)) return path;
  }
  throw usageError(`no bottle.config.ts in ${cwd}, and it is in no project \`bottle init\` set up; pass --config PATH, or run \`bottle init\` in the project`);
}

/**
 * A config inside a registered bottle's writable workspace may have been
 * written by that bottle's agent: it is refused before a line of it runs.
 */
export function refusePlantedConfig(path: string, bottles: readonly BottleEntry[]): void {
  const holder = workspaceHolding(path, bottles);
  if (!holder) return;
  const slug = holder.entry.slug;
  throw usageError(
    `refusing to load ${path}: it is inside ${holder.workspace}, the workspace bottle \`${slug}\`'s guest can write, so its agent could have written it; nothing in it was run. Keep configs outside that workspace and pass --config, or \`bottle rm ${slug}\` if that bottle is gone`,
  );
}

/** The bottle's name: --name, else $BOTTLE_NAME, else the config's own; another name is another bottle of the same config. */
function bottleName(option: string | undefined, configName: string): string {
  const name = option ?? process.env.BOTTLE_NAME ?? configName;
  if (!isSlug(name)) throw usageError(`${option !== undefined ? "--name" : "BOTTLE_NAME"}: \`${name}\` must be lowercase letters, digits and single hyphens, at most ${SLUG_MAX} characters`);
  return name;
}

export async function openSession(options: { config?: string | undefined; stage?: string | undefined; name?: string | undefined }): Promise<Session> {
  const path = findConfig(options.config);
  const bottles = listBottles();
  refusePlantedConfig(path, bottles);
  // What the config imports is refused too, before evaluation, when it lies in a workspace some bottle's guest can write.
  const guardedDirs = workspacesOf(bottles);
  const loaded = await loadConfig(path, { guardedDirs });
  const name = bottleName(options.name, loaded.config.name);
  if (loaded.config.egress.presets.length === 0) noticeOnce("egress-presets", loaded.path, () => process.stderr.write(`${noPresetNotice(loaded)}\n`));
  // The modules still to load (backend, tasks, engine) may come from the compile cache: the config's workspaces are known now.
  enableCompileCacheFor(loaded.path, guardedDirs);
  const choice = chooseBackendName(loaded.config.backend);
  const backend = await loadBackend(choice.name, choice.source);
  const stage = stageDir(loaded.dir, name, options.stage);
  // Yours, 0700, under directories nobody else can write (or not made yet, under such directories).
  checkStageDir(stage);
  const ctx: BuildContext = {
    config: { ...loaded.config, name, backend: backend.name },
    configPath: loaded.path,
    stageDir: stage,
    runDir: runDir(name),
    platform: process.platform,
    pathEnv: trustedSearchPath([...writableWorkspaces(loaded.config), ...guardedDirs.map((guarded) => guarded.dir)]),
  };
  const problems = confinementProblems(ctx.config, { configFiles: loaded.modules, stageDir: ctx.stageDir, runDir: ctx.runDir, install: packageRoot() });
  if (problems.length) throw configError(loaded.path, problems);
  return { loaded, backend, ctx };
}

/** Once per config: bottle used to add Claude Code's hosts to every allowlist; now the config opts in. */
function noPresetNotice(loaded: LoadedConfig): string {
  const line = `egress: { presets: ["claude-code"], allow: ${JSON.stringify(loaded.config.egress.allow)} },`;
  return `notice: ${loaded.path}: egress names no preset, so pipelock allows only egress.allow (bottle no longer adds Claude Code's hosts to every bottle); for Claude Code, write \`${line}\` (\`bottle policy\` shows what is allowed)`;
}
