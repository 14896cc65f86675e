// The projects `bottle init` wrote a config for, so that commands run
// inside a project find its config without a --config and without looking
// at any file in the project (the agent can write those): one record per
// project under the state dir, `<sha256 of its real path>.json` holding the
// project and its config, checked like the registry.
import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { sha256Hex } from "../lib/hash.js";
import { readFileNoFollow } from "../lib/no-follow.js";
import { bottleStateDir, checkStateSubdir } from "../lib/xdg.js";

export interface ProjectRecord {
  /** The project's real path. */
  project: string;
  config: string;
}

/** The projects `bottle init` wrote a config for: one record per project. */
export function projectsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(bottleStateDir(env), "projects");
}

/** The projects dir: bottle/projects under XDG_STATE_HOME, checked like the registry; false when it does not exist yet. */
export function checkProjectsDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  const fix = "it says which config runs for a project, so it must be yours alone; set XDG_STATE_HOME to a directory of your own";
  return checkStateSubdir("projects", { what: "projects dir", fix }, env, options);
}

function recordFile(project: string, env: NodeJS.ProcessEnv): string {
  return join(projectsDir(env), `${sha256Hex(project).slice(0, 32)}.json`);
}

export function recordProject(project: string, config: string, env: NodeJS.ProcessEnv = process.env): void {
  checkProjectsDir(env, { create: true });
  const record: ProjectRecord = { project: realpathSync(project), config };
  writeFileAtomic(recordFile(record.project, env), `${JSON.stringify(record, null, 2)}\n`);
}

function readRecord(project: string, env: NodeJS.ProcessEnv): ProjectRecord | null {
  const text = readFileNoFollow(recordFile(project, env));
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as Partial<ProjectRecord>;
    // A record is only as good as its name: the hash of the project it claims.
    return record.project === project && typeof record.config === "string" ? { project, config: record.config } : null;
  } catch {
    return null;
  }
}

/** The initialised project `dir` is in (it, or the nearest ancestor with a record), or null. */
export function projectFor(dir: string, env: NodeJS.ProcessEnv = process.env): ProjectRecord | null {
  if (!checkProjectsDir(env)) return null;
  let current: string;
  try {
    current = realpathSync(dir);
  } catch {
    return null;
  }
  for (;;) {
    const record = readRecord(current, env);
    if (record) return record;
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}
