// bottle init [DIR]: write a config for a project, outside the project.
import { EXIT_OK } from "../lib/errors.js";
import { initProject } from "../app/init/init-project.js";
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

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const { config, name, project, ecosystems } = initProject(args.positionals[0] ?? ".", stringOption(args, "name"));
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
