// bottle explain: why each task will run or is fresh.
import { explainPlan } from "../graph/index.js";
import { planBottle } from "../app/build.js";
import { EXIT_OK, usageError } from "../lib/errors.js";
import { CONFIG, HELP, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { openSession } from "../app/session.js";

export const spec: CommandSpec = {
  name: "explain",
  summary: "Say, for each task (or just TASK), whether the next run would redo it and exactly why.",
  positionals: [{ name: "TASK", description: "explain only this task" }],
  options: [CONFIG, STAGE, NAME, HELP],
  details: [
    "A task below a volatile one (preflight, ports) is shown fresh with a note: it stays fresh only if the volatile task finds the same result when it re-checks.",
    "What the rendered files let the bottle reach (each allowed host and where the config says it): `bottle policy`.",
  ].join("\n"),
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const session = await openSession({ config: stringOption(args, "config"), stage: stringOption(args, "stage"), name: stringOption(args, "name") });
  const task = args.positionals[0];
  const names = session.backend.graph.allTasks.map((t) => t.name);
  if (task && !names.includes(task)) throw usageError(`there is no task \`${task}\`; tasks: ${names.join(", ")}`);
  console.log(explainPlan(planBottle(session), task));
  return EXIT_OK;
}
