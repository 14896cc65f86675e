// bottle watch: re-render on config edits; apply egress changes to a running bottle.
import { EXIT_OK } from "../errors.js";
import { BottleWatcher } from "../watch/watcher.js";
import { CONFIG, HELP, JSON_OUTPUT, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { LOCK_TIMEOUT_MS } from "./graph-run.js";
import { findConfig, openSession, type Session } from "./session.js";

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
  const stage = stringOption(args, "stage");
  const name = stringOption(args, "name");
  const json = Boolean(args.options.json);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (!json) console.log(`watching ${config} (Ctrl-C to stop)`);
  await new BottleWatcher({
    open: () => openSession({ config, stage, name }),
    config,
    json,
    lockTimeoutMs: LOCK_TIMEOUT_MS,
    signal: controller.signal,
    print: (line) => console.log(line),
  }).start();
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  return EXIT_OK;
}

/** `bottle launch --watch`: the same watcher, beside the agent, until the launch ends. */
export async function watchBeside(session: Session, options: { json: boolean; signal: AbortSignal }): Promise<void> {
  const config = session.ctx.configPath;
  await new BottleWatcher({
    open: () => openSession({ config, stage: session.ctx.stageDir, name: session.ctx.config.name }),
    config,
    json: options.json,
    lockTimeoutMs: LOCK_TIMEOUT_MS,
    signal: options.signal,
    // Every line of a multi-line message (a config error's problems) is marked as the watcher's.
    print: (text) => process.stderr.write(`${text.split("\n").map((line) => `watch: ${line}`).join("\n")}\n`),
  }).start();
}
