// The workspaces a guest on this machine can write, or could have written:
// each config bottle has evaluated here, by path (a small private record
// under the state dir, kept when its bottle is removed, since what a guest
// wrote there stays), and each registered bottle's. A guest gets a
// workspace only through a config that says so, which bottle evaluates
// first, so a directory in none of these was never a guest's. bottle's
// caches are used only outside all of them, and only for a config whose
// own workspaces are known before it is evaluated (cache.ts, load.ts).
import { readdirSync } from "node:fs";
import { sha256Hex } from "../lib/hash.js";
import { join } from "node:path";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { readFileNoFollow } from "../lib/no-follow.js";
import { bottleStateDir, checkStateSubdir } from "../lib/xdg.js";

/** A directory a guest can write, and whose guest (for messages). */
export interface GuardedDir {
  dir: string;
  why: string;
}

export interface KnownWorkspaces {
  /** The workspaces `configPath` made writable when last evaluated here; null: never evaluated here (or not known). */
  of(configPath: string): readonly string[] | null;
  /** Every workspace any known config or registered bottle lets a guest write. */
  all: readonly GuardedDir[];
  /** False when the records could not be read safely: then no cache is used. */
  trusted: boolean;
}

interface WorkspaceRecord {
  configPath: string;
  writable: string[];
}

/** What bottle knows of each config it evaluated: the workspaces it lets a guest write. */
export function workspacesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(bottleStateDir(env), "workspaces");
}

function checkWorkspacesDir(env: NodeJS.ProcessEnv, options: { create?: boolean } = {}): boolean {
  const fix = "it says which directories bottle's caches must stay out of, so it must be yours alone; set XDG_STATE_HOME to a directory of your own";
  return checkStateSubdir("workspaces", { what: "workspaces record dir", fix }, env, options);
}

function recordFile(configPath: string, env: NodeJS.ProcessEnv): string {
  return join(workspacesDir(env), `${sha256Hex(configPath).slice(0, 24)}.json`);
}

function parseRecord(text: string | null): WorkspaceRecord | null {
  try {
    const value = JSON.parse(text ?? "null") as Partial<WorkspaceRecord> | null;
    if (typeof value?.configPath !== "string" || !Array.isArray(value.writable) || !value.writable.every((dir) => typeof dir === "string")) return null;
    return { configPath: value.configPath, writable: value.writable };
  } catch {
    return null;
  }
}

/**
 * What this user's records say, with `registered`: the workspaces of the
 * bottles in the registry (its caller reads it), or null when the registry
 * could not be read safely, which leaves nothing trusted.
 */
export function knownWorkspaces(env: NodeJS.ProcessEnv, registered: readonly GuardedDir[] | null): KnownWorkspaces {
  const byConfig = new Map<string, string[]>();
  const all: GuardedDir[] = [...(registered ?? [])];
  if (registered === null) return { of: () => null, all, trusted: false };
  try {
    if (checkWorkspacesDir(env)) {
      const dir = workspacesDir(env);
      for (const name of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
        const record = parseRecord(readFileNoFollow(join(dir, name)));
        // A record is only as good as its name: the hash of the config path it claims.
        if (record === null || recordFile(record.configPath, env) !== join(dir, name)) continue;
        byConfig.set(record.configPath, record.writable);
        for (const writable of record.writable) all.push({ dir: writable, why: `the guest of ${record.configPath} can write it` });
      }
    }
  } catch {
    return { of: () => null, all, trusted: false };
  }
  return { of: (configPath) => byConfig.get(configPath) ?? null, all, trusted: true };
}

/**
 * Adds the writable workspaces `configPath` has as just evaluated to its
 * record. Never drops one: a workspace the config no longer mounts still
 * holds whatever its guest wrote. A failure leaves the config unknown,
 * which only costs its caches.
 */
export function rememberWorkspaces(configPath: string, writable: readonly string[], known: KnownWorkspaces, env: NodeJS.ProcessEnv = process.env): void {
  const before = known.of(configPath);
  if (before !== null && writable.every((dir) => before.includes(dir))) return;
  try {
    checkWorkspacesDir(env, { create: true });
    const record: WorkspaceRecord = { configPath, writable: [...new Set([...(before ?? []), ...writable])] };
    writeFileAtomic(recordFile(configPath, env), JSON.stringify(record));
  } catch {
    // As above.
  }
}
