// The bottles on this machine: one small record per bottle under the XDG
// state dir, pointing at its config, stage and run dirs, and naming the
// workspaces its guest can write. `ls`, `stop` and `rm` read it (and never
// evaluate a config); launch writes it; `rm` removes it. The registry dir is
// checked like the run dir (yours, 0700, no symlink), and an entry is
// trusted only as far as it agrees with what bottle derives itself.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../lib/errors.js";
import { isSlug } from "../config/slug.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { isInside, resolvedPath } from "../lib/path-checks.js";
import { readFileNoFollow } from "../lib/no-follow.js";
import { runDir } from "../backends/smolmachines/run-dir.js";
import { bottleStateDir, checkStateSubdir } from "../lib/xdg.js";
import type { GuardedDir } from "../config/known-workspaces.js";

export interface BottleEntry {
  slug: string;
  backend: string;
  configPath: string;
  stageDir: string;
  runDir: string;
  /** The subnet's third octet (shown by `ls`; bottles may share it: each network is private to its jail). */
  octet: number;
  /** Real paths of the workspaces its guest can write: a config found inside one is never evaluated. */
  writable?: string[];
  updatedAt: number;
}

/** The registry of bottles on this machine: one small record per bottle. */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(bottleStateDir(env), "bottles");
}

/** The registry dir: checked like the run dir before anything in it is read or written; false when it does not exist yet. */
export function checkRegistryDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  const fix = "it says which bottles exist and where their files are, so it must be yours alone; set XDG_STATE_HOME to a directory of your own";
  return checkStateSubdir("bottles", { what: "registry dir", fix }, env, options);
}

export function registryFile(slug: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(registryDir(env), `${slug}.json`);
}

export function registerBottle(entry: BottleEntry, env: NodeJS.ProcessEnv = process.env): void {
  checkRegistryDir(env, { create: true });
  writeFileAtomic(registryFile(entry.slug, env), JSON.stringify(entry, null, 2));
}

/** Every well-formed entry; a BottleError when the registry dir is not safe to read. */
export function listBottles(env: NodeJS.ProcessEnv = process.env): BottleEntry[] {
  if (!checkRegistryDir(env)) return [];
  const dir = registryDir(env);
  const entries: BottleEntry[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    try {
      const entry = JSON.parse(readFileNoFollow(join(dir, name)) ?? "null") as unknown;
      // A torn or foreign file, or one whose name is not its slug, is not a bottle.
      if (isEntry(entry) && name === `${entry.slug}.json`) entries.push(entry);
    } catch {
      // Not a bottle either.
    }
  }
  return entries;
}

function isEntry(value: unknown): value is BottleEntry {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  const strings = ["slug", "backend", "configPath", "stageDir", "runDir"].every((key) => typeof e[key] === "string");
  const writable = e.writable === undefined || (Array.isArray(e.writable) && e.writable.every((w) => typeof w === "string"));
  return strings && typeof e.octet === "number" && writable;
}

export function findBottle(slug: string, env: NodeJS.ProcessEnv = process.env): BottleEntry | null {
  return listBottles(env).find((e) => e.slug === slug) ?? null;
}

/**
 * Why an entry cannot be acted on, or null: its name must be a valid slug
 * and its run dir the one bottle derives for that slug (a hand-written entry
 * must not steer `stop` or `rm` to another directory).
 */
export function registryEntryProblem(entry: BottleEntry, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!isSlug(entry.slug)) return `\`${entry.slug}\` is not a valid bottle name`;
  let derived: string;
  try {
    derived = runDir(entry.slug, env);
  } catch (error) {
    return errorMessage(error);
  }
  if (entry.runDir !== derived) {
    return `its run dir ${entry.runDir} is not the one bottle derives for \`${entry.slug}\` (${derived}); run bottle with the XDG_RUNTIME_DIR it was launched with`;
  }
  return null;
}

/** The registered bottle whose writable workspace holds `path` (compared by real path), with that workspace. */
export function workspaceHolding(path: string, entries: readonly BottleEntry[]): { entry: BottleEntry; workspace: string } | null {
  const real = resolvedPath(path);
  for (const entry of entries) {
    const workspace = (entry.writable ?? []).find((w) => isInside(w, real) || isInside(resolvedPath(w), real));
    if (workspace) return { entry, workspace };
  }
  return null;
}

/**
 * The workspaces the registered bottles' guests can write, each with whose
 * it is; null when the registry cannot be read safely (then nothing may be
 * assumed about them).
 */
export function registeredWorkspaces(env: NodeJS.ProcessEnv = process.env): GuardedDir[] | null {
  try {
    return workspacesOf(listBottles(env));
  } catch {
    return null;
  }
}

/** The workspaces the guests of `entries` can write, each with whose it is. */
export function workspacesOf(entries: readonly BottleEntry[]): GuardedDir[] {
  return entries.flatMap((entry) => (entry.writable ?? []).map((dir) => ({ dir, why: `bottle \`${entry.slug}\`'s guest can write it` })));
}

export function unregisterBottle(slug: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!isSlug(slug)) return;
  rmSync(registryFile(slug, env), { force: true });
}
