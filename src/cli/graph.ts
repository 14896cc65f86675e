// bottle graph: the task graph with each task's planned status.
import { GRAPH_FORMATS, exportGraph, isGraphFormat } from "../graph/index.js";
import { planBottle } from "../app/build.js";
import { EXIT_OK, usageError } from "../lib/errors.js";
import { CONFIG, HELP, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { openSession } from "../app/session.js";

export const spec: CommandSpec = {
  name: "graph",
  summary: "Print the bottle's task graph, with each task's planned status (fresh, will run).",
  options: [
    CONFIG,
    STAGE, NAME,
    { name: "format", kind: "value", valueName: "FORMAT", description: `one of ${GRAPH_FORMATS.join(", ")} (default: text)` },
    HELP,
  ],
  details: 'Edges run from a task to the task that needs it. JSON: {"nodes":[{"id","volatile","status","reasons","pendingNeeds"}],"edges":[[from,to],...]}.',
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const format = stringOption(args, "format") ?? "text";
  if (!isGraphFormat(format)) {
    throw usageError(`--format must be one of ${GRAPH_FORMATS.join(", ")}, not \`${format}\``);
  }
  const plan = planBottle(await openSession({ config: stringOption(args, "config"), stage: stringOption(args, "stage"), name: stringOption(args, "name") }));
  for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
  console.log(exportGraph(plan, format));
  return EXIT_OK;
}
