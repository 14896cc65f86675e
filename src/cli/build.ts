// bottle build: render everything a launch needs, redoing only what changed.
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from "../lib/errors.js";
import { CONFIG, HELP, NAME, JSON_OUTPUT, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { buildBottle, planBuild } from "../app/build.js";
import { forceOption, onInterrupt } from "../app/graph-runner.js";
import { progressFor } from "./progress.js";
import { openSession } from "../app/session.js";

export const spec: CommandSpec = {
  name: "build",
  summary: "Render the bottle's files into its stage dir (gvproxy.yaml, smolfile.toml, pipelock.yaml, sidecars.json, guest/), redoing only what changed.",
  options: [
    CONFIG,
    STAGE, NAME,
    { name: "force", kind: "optional-value", valueName: "TASK", description: "run every task, or just TASK, even if fresh" },
    { name: "dry-run", kind: "flag", description: "print the plan (what would run and why) and change nothing" },
    JSON_OUTPUT,
    HELP,
  ],
  details: "Exit codes: 0 built, 1 a task failed, 2 usage or config error, 130 interrupted.",
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const session = await openSession({ config: stringOption(args, "config"), stage: stringOption(args, "stage"), name: stringOption(args, "name") });
  const force = forceOption(args.options.force, session.backend.graph.buildTasks);
  const json = Boolean(args.options.json);

  if (args.options["dry-run"]) {
    const { printPlan } = await import("./plan-output.js");
    printPlan(planBuild(session, force), { json });
    return EXIT_OK;
  }

  const view = await progressFor({ json });
  const interrupts = onInterrupt({ first: (name) => void process.stderr.write(`\n${name}: stopping (press Ctrl-C again to force)\n`) });
  try {
    const { result, warning } = await buildBottle(session, { force, view, signal: interrupts.signal });
    if (warning) process.stderr.write(`\n${warning}\n`);
    if (result.interrupted) return EXIT_INTERRUPTED;
    if (!result.ok) return EXIT_FAILED;
    if (!json) console.log(`stage: ${session.ctx.stageDir}`);
    return EXIT_OK;
  } finally {
    interrupts.dispose();
  }
}
