// bottle blocked: what pipelock refused in a bottle's running or last
// session, and the config edit that would allow each host refused as not
// allowlisted. Read from the registry and the stage; the config is not run.
import { EXIT_OK } from "../lib/errors.js";
import { findRegisteredBottle } from "../app/find-bottle.js";
import { refusalsOf } from "../app/lifecycle.js";
import { CONFIG, HELP, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";

export const spec: CommandSpec = {
  name: "blocked",
  summary:
    "Show what pipelock refused in the bottle's running or last session: each host, how often and why (not allowlisted, DLP, SSRF, another check), and for a host refused as not allowlisted the config edit that would allow it. Nothing is allowed by this command.",
  positionals: [{ name: "NAME", description: "the bottle (default: the registered bottle launched from ./bottle.config.ts, found in the registry; the config is not run)" }],
  options: [CONFIG, STAGE, { name: "json", kind: "flag", description: "print one JSON object: the records and the per-host summary" }, HELP],
  details: [
    "A launch records every refusal from pipelock's log into <stage>/blocked.jsonl (host, port, method, reason;",
    "never a URL's path or query) and starts it afresh at the next launch; it prints the same summary at teardown.",
    "`bottle allow NAME HOST` makes the edit it suggests.",
    "Exit codes: 0 shown (also when nothing was refused), 1 the record cannot be read, 2 usage error or no such bottle.",
  ].join("\n"),
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const found = await findRegisteredBottle(args.positionals[0], { config: stringOption(args, "config"), stage: stringOption(args, "stage") });
  const { entry } = found;
  const report = await refusalsOf(found);
  if (args.options.json) {
    const { file, running, recorded, records, hosts } = report;
    console.log(JSON.stringify({ bottle: entry.slug, config: entry.configPath, file, running, recorded, requests: records.length, hosts, records }));
    return EXIT_OK;
  }
  const session = report.running ? "the running session" : "the last session";
  if (!report.recorded) console.log(`${entry.slug} has no record of refused requests (${report.file} is written while the bottle runs; \`bottle launch\` or \`bottle resume\` starts one)`);
  else if (report.summary.length === 0) console.log(`pipelock refused nothing in ${session} of ${entry.slug}`);
  else console.log(report.summary.join("\n"));
  return EXIT_OK;
}
