// bottle init [DIR]: write a config for a project, outside the project.
import { closeSync, constants, lstatSync, openSync, realpathSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { knownWorkspaces, rememberWorkspaces } from "../config/known-workspaces.js";
import { isSlug, SLUG_MAX } from "../config/slug.js";
import { EXIT_OK, usageError } from "../errors.js";
import { renderInitConfig, nameFromDir } from "../init/config-text.js";
import { detectEcosystems } from "../init/project-kind.js";
import { checkInitConfigDir, initConfigDir } from "../paths.js";
import { projectFor, recordProject } from "../projects.js";
import { HELP, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";

export const spec: CommandSpec = {
  name: "init",
  summary: "Write a bottle config for a project: Claude Code working in it, reaching only what the config allows. The config goes outside the project, where the agent cannot edit it.",
  positionals: [{ name: "DIR", description: "the project (default: the current directory); mounted read-write in the guest at /workspace" }],
  options: [{ name: "name", kind: "value", valueName: "NAME", description: "the bottle's name (default: from the directory's name)" }, HELP],
  details: [
    "The config is written to $XDG_CONFIG_HOME/bottle/<name>.config.ts (~/.config/bottle/...), never over an existing file.",
    "egress.allow is suggested from the project's files (package.json: the npm registry; requirements.txt or pyproject.toml: PyPI;",
    "go.mod: the Go module proxy and checksum database; Cargo.toml: crates.io), each host commented with why.",
    "Afterwards bottle build, launch, resume and watch run from inside the project find that config",
    "(a bottle.config.ts inside the project is never looked at: the agent can write there).",
    "Exit codes: 0 written, 2 usage error (nothing written).",
  ].join("\n"),
};

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

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const project = projectDir(args.positionals[0] ?? ".");
  const name = stringOption(args, "name") ?? nameFromDir(basename(project));
  if (!isSlug(name)) throw usageError(`--name: \`${name}\` must be lowercase letters, digits and single hyphens, at most ${SLUG_MAX} characters`);
  const existing = projectFor(project);
  if (existing?.project === project) throw usageError(`${project} already has a bottle: ${existing.config}; edit that config (or remove it and run bottle init again)`);

  checkInitConfigDir(process.env, { create: true });
  const config = join(initConfigDir(), `${name}.config.ts`);
  const ecosystems = detectEcosystems((file) => {
    try {
      lstatSync(join(project, file));
      return true;
    } catch {
      return false;
    }
  });
  writeNew(config, renderInitConfig({ name, project, ecosystems }));
  recordProject(project, config);
  // From now on the project is a directory a guest can write: bottle's caches stay out of it.
  rememberWorkspaces(config, [project], knownWorkspaces());

  console.log(`wrote ${config}`);
  console.log(`  bottle ${name}: Claude Code in ${project} (read-write at /workspace)`);
  console.log(`  egress: the claude-code preset${ecosystems.length ? `, and for ${ecosystems.map((e) => e.name).join(", ")}: ${ecosystems.flatMap((e) => e.hosts.map((h) => h.host)).join(", ")}` : ""} (edit the config to change it)`);
  console.log("");
  console.log("next:");
  console.log(`  cd ${project}`);
  console.log("  bottle doctor     # can this machine run it?");
  console.log("  bottle launch     # needs ANTHROPIC_API_KEY set; the agent never sees it");
  return EXIT_OK;
}
