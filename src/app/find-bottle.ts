// Finding the bottle a lifecycle command is about: by name from the
// registry, or the one whose config is in the current directory. `stop` and
// `rm` read only the registry (a config in a directory the guest could write
// must never run on the host); `resume` without NAME opens the config.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DEFAULT_BACKEND } from "../config/resolved.js";
import { knownWorkspaces } from "../config/known-workspaces.js";
import { isSlug } from "../config/slug.js";
import { runDir } from "../backends/smolmachines/run-dir.js";
import { stageDir } from "../backends/smolmachines/stage-dir.js";
import { chooseBackendName, loadBackend, type Backend } from "./backends.js";
import { usageError } from "../lib/errors.js";
import { findBottle, listBottles, registeredWorkspaces, type BottleEntry } from "./registry.js";
import { findConfig, openSession, type Session } from "./session.js";
import { isInside, resolvedPath } from "../lib/path-checks.js";

export interface FoundBottle {
  entry: BottleEntry;
  backend: Backend;
  /** Set when the bottle was found through its config (so it can be launched). */
  session?: Session;
}

interface Where {
  config?: string | undefined;
  stage?: string | undefined;
}

async function byName(name: string): Promise<FoundBottle> {
  const entry = findBottle(name);
  if (!entry) {
    const registered = listBottles().map((e) => e.slug);
    throw usageError(`no bottle named \`${name}\` on this machine${registered.length ? ` (known: ${registered.join(", ")})` : ""}; \`bottle ls\` lists them`);
  }
  return { entry, backend: await loadBackend(entry.backend) };
}

/**
 * For `stop` and `rm`: NAME, or the registered bottle launched from
 * ./bottle.config.ts (or --config, and --stage when given), matched by path
 * in the registry. The config itself is never evaluated.
 */
export async function findRegisteredBottle(name: string | undefined, where: Where): Promise<FoundBottle> {
  if (name) return byName(name);
  const config = findConfig(where.config);
  const real = resolvedPath(config);
  const stage = where.stage === undefined ? undefined : resolvedPath(where.stage);
  const matches = listBottles().filter((e) => resolvedPath(e.configPath) === real && (stage === undefined || resolvedPath(e.stageDir) === stage));
  if (matches.length === 1) return { entry: matches[0]!, backend: await loadBackend(matches[0]!.backend) };
  if (matches.length === 0) {
    throw usageError(`no registered bottle was launched from ${config} (without NAME, bottle looks it up in the registry and does not run the config); pass NAME: \`bottle ls\` lists them`);
  }
  throw usageError(`${config} was launched as ${matches.map((e) => `\`${e.slug}\``).join(", ")}; pass NAME`);
}

/**
 * For `rm`: NAME from the registry, or else a bottle only ever built (a
 * build does not register it): its stage dir beside the config of the
 * current directory (or --config, or --stage), found by path, the config
 * not evaluated. `rm` checks that stage as it checks a registered one's.
 */
export async function findRemovableBottle(name: string | undefined, where: Where): Promise<FoundBottle> {
  if (name && isSlug(name) && !findBottle(name)) {
    const built = await builtOnly(name, where);
    if (built) return built;
  }
  return findRegisteredBottle(name, where);
}

async function builtOnly(slug: string, where: Where): Promise<FoundBottle | null> {
  let config: string;
  try {
    config = findConfig(where.config);
  } catch {
    return null;
  }
  const stage = stageDir(dirname(config), slug, where.stage);
  if (!existsSync(stage)) return null;
  refuseGuestWritableStage(slug, stage);
  const backend = await loadBackend(chooseBackendName(DEFAULT_BACKEND).name);
  return { entry: { slug, backend: backend.name, configPath: config, stageDir: stage, runDir: runDir(slug), octet: 0, updatedAt: 0 }, backend };
}

/**
 * bottle never makes a stage inside a workspace a guest can write (the
 * config check refuses it): one there was put there by its agent, which
 * could also swap a subdir for a symlink while `rm` deletes in it.
 */
function refuseGuestWritableStage(slug: string, stage: string): void {
  const known = knownWorkspaces(process.env, registeredWorkspaces());
  const refuse = (why: string): never => {
    throw usageError(`nothing was deleted for \`${slug}\`: ${why}; remove that directory by hand if it really is a stage of yours`);
  };
  if (!known.trusted) refuse(`bottle cannot tell whether a guest can write ${stage} (its registry or workspaces record cannot be read safely)`);
  const paths = [resolve(stage), resolvedPath(stage)];
  const holder = known.all.find(({ dir }) => [resolve(dir), resolvedPath(dir)].some((workspace) => paths.some((path) => isInside(workspace, path))));
  if (holder) refuse(`${stage} is inside ${holder.dir} (${holder.why}), so a guest could have put it there`);
}

/** For `resume`: NAME from the registry, or the config in the current directory (checked, then evaluated). */
export async function findNamedBottle(name: string | undefined, where: Where): Promise<FoundBottle> {
  if (name) return byName(name);
  const session = await openSession(where);
  const { ctx } = session;
  const entry = findBottle(ctx.config.name) ?? {
    slug: ctx.config.name,
    backend: session.backend.name,
    configPath: ctx.configPath,
    stageDir: ctx.stageDir,
    runDir: ctx.runDir,
    octet: ctx.config.network.subnetOctet ?? 0,
    updatedAt: 0,
  };
  return { entry, backend: session.backend, session };
}
