// bottle stop: ask a running bottle (in another terminal) to tear down.
import { EXIT_OK } from "../lib/errors.js";
import { CONFIG, HELP, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { findRegisteredBottle } from "../app/find-bottle.js";
import { stopRegistered } from "../app/lifecycle.js";

export const spec: CommandSpec = {
  name: "stop",
  summary: "Stop a running bottle: its launcher tears everything down (machine, gvproxy, sidecars) and the bottle stays resumable.",
  positionals: [{ name: "NAME", description: "the bottle (default: the registered bottle launched from ./bottle.config.ts, found in the registry; the config is not run)" }],
  options: [CONFIG, STAGE, HELP],
  details: "Returns once the teardown is done. A bottle whose launcher died is cleaned up instead.",
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const found = await findRegisteredBottle(args.positionals[0], { config: stringOption(args, "config"), stage: stringOption(args, "stage") });
  await stopRegistered(found, (line) => console.log(line));
  return EXIT_OK;
}
