// bottle watch: re-render on config edits; apply egress changes to a running bottle.
import { EXIT_OK } from "../lib/errors.js";
import { watchBottle } from "../app/watch/watch-bottle.js";
import { CONFIG, HELP, JSON_OUTPUT, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { onInterrupt } from "../app/graph-runner.js";
import { findConfig } from "../app/session.js";

export const spec: CommandSpec = {
  name: "watch",
  summary:
    "Build once, then watch the config, the files it imports and the files tasks read; on every real change re-render only what it affects.",
  options: [CONFIG, STAGE, NAME, JSON_OUTPUT, HELP],
  details: [
    "Saves that do not change a file's content are ignored; bursts are debounced; runs never overlap.",
    "While another command holds the stage, a run waits for it (Ctrl-C still stops at once).",
    "A config that fails to load is reported and every rendered file is left as it was.",
    "While the bottle runs, an egress edit (allow, presets) is applied live (pipelock reloads); changes that",
    "need the VM or gvproxy restarted are reported as needing `bottle resume`.",
    "Ctrl-C stops watching (exit 0).",
  ].join("\n"),
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const config = findConfig(stringOption(args, "config"));
  const json = Boolean(args.options.json);
  const interrupts = onInterrupt({ first: () => undefined });
  if (!json) console.log(`watching ${config} (Ctrl-C to stop)`);
  try {
    await watchBottle({ config, stage: stringOption(args, "stage"), name: stringOption(args, "name"), json, signal: interrupts.signal, print: (line) => console.log(line) });
  } finally {
    interrupts.dispose();
  }
  return EXIT_OK;
}
