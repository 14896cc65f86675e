// bottle allow NAME HOST: adds HOST to egress.allow in the bottle's config
// (the file its registry entry names), as `bottle blocked` suggests. With
// `bottle watch` running on that config, the edit reaches the running
// bottle's pipelock live.
import { dirname } from "node:path";
import { allowHostInConfig } from "../config/allow-host.js";
import { egressHostProblem } from "../config/egress-host.js";
import { EXIT_FAILED, EXIT_OK, usageError } from "../errors.js";
import { stageDir } from "../paths.js";
import { listBottles, type BottleEntry } from "../registry.js";
import { shellQuote } from "../shell-quote.js";
import { HELP, helpText, parseArgs, type CommandSpec } from "./args.js";
import { findRegisteredBottle } from "./bottles.js";
import { refusePlantedConfig } from "./session.js";

export const spec: CommandSpec = {
  name: "allow",
  summary: "Add HOST to egress.allow in the bottle's config file (the one it was launched from), the edit `bottle blocked` suggests for a host refused as not allowlisted.",
  positionals: [
    { name: "NAME", description: "the bottle, as `bottle ls` lists it", required: true },
    { name: "HOST", description: "a host name or `*.domain`, as egress.allow takes it (no IP address, port or path)", required: true },
  ],
  options: [HELP],
  details: [
    "The config is edited as text: HOST goes at the end of the `allow` array inside `egress: { ... }` (or `allow` is",
    "added to that object). Any other shape is left alone and the line to add is printed. The file is replaced atomically",
    "with its mode kept, then loaded again; unless the config then allows exactly what it did plus HOST, the original is",
    "put back. A config that is a symlink is not edited. With `bottle watch` running on the config, the running bottle's",
    "pipelock takes the new host live; otherwise it is used from the next launch or resume.",
    "Exit codes: 0 added (or already allowed), 1 not edited (the config's shape, a symlink, or the edit did not check out),",
    "2 usage error, a HOST egress.allow refuses, no such bottle, or a config that does not load.",
  ].join("\n"),
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const [name, rawHost] = args.positionals;
  if (name === undefined || rawHost === undefined) throw usageError("bottle allow needs NAME and HOST, e.g. `bottle allow example registry.npmjs.org`; see `bottle allow --help`");
  const host = rawHost.trim().toLowerCase();
  const problem = egressHostProblem(host);
  if (problem) throw usageError(`\`${host}\` cannot go in egress.allow: it ${problem}`);

  const { entry, backend } = await findRegisteredBottle(name, {});
  const bottles = listBottles();
  // As every command that runs a config: never one a guest could have written, nor what it imports from there.
  refusePlantedConfig(entry.configPath, bottles);
  const guardedDirs = bottles.flatMap((other) => (other.writable ?? []).map((dir) => ({ dir, why: `bottle \`${other.slug}\`'s guest can write it` })));
  // The config is loaded twice (before and after the edit): each of its warnings is said once. A host
  // that takes writes from anyone gets the warning every load gives it (config/egress-presets.ts).
  const said = new Set<string>();
  const warn = (message: string): void => {
    if (!said.has(message)) process.stderr.write(`warning: ${message}\n`);
    said.add(message);
  };
  const outcome = await allowHostInConfig(entry.configPath, host, { slug: entry.slug, load: { guardedDirs, warn } });
  const running = async () => (await backend.state(entry)).state === "running";
  switch (outcome.state) {
    case "already":
      console.log(`${host} is already allowed by ${entry.configPath} (${outcome.by}); nothing changed${(await running()) ? `. \`${policyCommand(entry)}\` shows whether the running pipelock has loaded it` : ""}`);
      return EXIT_OK;
    case "not-edited":
      process.stderr.write(`bottle: did not edit ${entry.configPath}: ${outcome.why}. To allow ${host}, ${outcome.instruction}\n`);
      return EXIT_FAILED;
    case "added": {
      console.log(`added ${JSON.stringify(host)} to egress.allow in ${entry.configPath} (line ${outcome.line})`);
      console.log(
        (await running())
          ? `${entry.slug} is running: a \`bottle watch\` on this config applies it live (one started now does too: \`${watchCommand(entry)}\`); otherwise it takes effect at the next launch or resume`
          : `it takes effect when ${entry.slug} next starts (\`bottle resume ${shellQuote(entry.slug)}\`)`,
      );
      return EXIT_OK;
    }
  }
}

/** The config and, when it is not the default one, the stage the bottle was launched with. */
function where(entry: BottleEntry): string {
  const custom = entry.stageDir !== stageDir(dirname(entry.configPath), entry.slug);
  return `--config ${shellQuote(entry.configPath)}${custom ? ` --stage ${shellQuote(entry.stageDir)}` : ""}`;
}

const watchCommand = (entry: BottleEntry) => `bottle watch ${where(entry)}`;
const policyCommand = (entry: BottleEntry) => `bottle policy ${where(entry)}`;
