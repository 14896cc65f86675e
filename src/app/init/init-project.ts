// `bottle init [DIR]`: a config for a project, written outside it (under
// $XDG_CONFIG_HOME/bottle, where the project's agent cannot edit it), the
// project recorded so commands run inside it find that config, and the
// project remembered as a directory a guest can write.
import { closeSync, constants, lstatSync, openSync, realpathSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { knownWorkspaces, rememberWorkspaces } from "../../config/known-workspaces.js";
import { isSlug, SLUG_MAX } from "../../config/slug.js";
import { usageError } from "../../lib/errors.js";
import { checkPrivateDir } from "../../lib/private-dir.js";
import { bottleConfigDir } from "../../lib/xdg.js";
import { projectFor, recordProject } from "../projects.js";
import { registeredWorkspaces } from "../registry.js";
import { nameFromDir, renderInitConfig } from "./config-text.js";
import { detectEcosystems, type Ecosystem } from "./project-kind.js";

/** The dir `bottle init` writes configs into: bottle/ under XDG_CONFIG_HOME, yours alone. */
export function checkInitConfigDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(bottleConfigDir(env), {
    what: "config dir",
    privateLevels: 1,
    ...options,
    fix: "the configs there say what confines each bottle, so the dir must be yours alone; set XDG_CONFIG_HOME to a directory of your own",
  });
}

function projectDir(dir: string): string {
  let project: string;
  try {
    project = realpathSync(resolve(dir));
  } catch {
    throw usageError(`${resolve(dir)} does not exist; pass the project's directory`);
  }
  if (!lstatSync(project).isDirectory()) throw usageError(`${project} is not a directory; pass the project's directory`);
  if (project === "/" || project === realpathSync(homedir())) {
    throw usageError(`refusing to give an agent ${project} read-write: pass one project's directory`);
  }
  return project;
}

/** Creates the config exclusively (0600, no symlink followed): an existing file is never replaced. */
function writeNew(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw usageError(`${path} already exists; edit it, remove it, or pass --name for another bottle`);
    throw error;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export interface InitializedProject {
  /** The config written. */
  config: string;
  name: string;
  /** The project's real path. */
  project: string;
  /** What egress.allow was suggested for. */
  ecosystems: Ecosystem[];
}

/** Writes the config for the project at `dir` (named `name`, or after the directory) and records the project. */
export function initProject(dir: string, name: string | undefined): InitializedProject {
  const project = projectDir(dir);
  const bottle = name ?? nameFromDir(basename(project));
  if (!isSlug(bottle)) throw usageError(`--name: \`${bottle}\` must be lowercase letters, digits and single hyphens, at most ${SLUG_MAX} characters`);
  const existing = projectFor(project);
  if (existing?.project === project) throw usageError(`${project} already has a bottle: ${existing.config}; edit that config (or remove it and run bottle init again)`);

  checkInitConfigDir(process.env, { create: true });
  const config = join(bottleConfigDir(), `${bottle}.config.ts`);
  const ecosystems = detectEcosystems((file) => {
    try {
      lstatSync(join(project, file));
      return true;
    } catch {
      return false;
    }
  });
  writeNew(config, renderInitConfig({ name: bottle, project, ecosystems }));
  recordProject(project, config);
  // From now on the project is a directory a guest can write: bottle's caches stay out of it.
  rememberWorkspaces(config, [project], knownWorkspaces(process.env, registeredWorkspaces()));
  return { config, name: bottle, project, ecosystems };
}
