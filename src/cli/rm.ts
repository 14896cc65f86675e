// bottle rm: delete a bottle's machine, processes, run and stage dirs.
import { createInterface } from "node:readline/promises";
import { EXIT_OK, usageError } from "../lib/errors.js";
import { CONFIG, HELP, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { findRemovableBottle } from "../app/find-bottle.js";
import { removeRegistered } from "../app/lifecycle.js";

export const spec: CommandSpec = {
  name: "rm",
  summary: "Remove a bottle: stop it if running, delete its smolvm machine, its run dir and its stage dir (rendered files, state, logs), and forget it.",
  positionals: [{ name: "NAME", description: "the bottle (default: the registered bottle launched from ./bottle.config.ts, found in the registry; the config is not run). A bottle only built, never launched, is found by its stage dir beside ./bottle.config.ts (or --config, --stage)" }],
  options: [CONFIG, STAGE, { name: "yes", short: "y", kind: "flag", description: "do not ask (required when stdin is not a terminal)" }, HELP],
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const found = await findRemovableBottle(args.positionals[0], { config: stringOption(args, "config"), stage: stringOption(args, "stage") });
  const { entry } = found;
  if (!args.options.yes) {
    if (!process.stdin.isTTY) throw usageError(`bottle rm asks before deleting; without a terminal, pass --yes to remove \`${entry.slug}\``);
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(`Remove bottle \`${entry.slug}\`: its machine and ${entry.stageDir}? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log("nothing removed");
      return EXIT_OK;
    }
  }
  await removeRegistered(found, (line) => console.log(line));
  return EXIT_OK;
}
