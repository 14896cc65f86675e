// bottle policy: what a bottle may reach and what checks what leaves, read
// from its rendered files, with where the config says each allowed host,
// and whether the running bottle has loaded exactly that.
import { EXIT_OK } from "../lib/errors.js";
import { CONFIG, HELP, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { formatPolicy, policyReport } from "../app/policy.js";
import { openSession } from "../app/session.js";

export const spec: CommandSpec = {
  name: "policy",
  summary: "Print the bottle's effective egress policy: every allowed host and where the config says it, passthrough hosts, the SSRF ranges, DLP, the git gate's remotes and push rules, and whether the running pipelock has loaded exactly this policy.",
  options: [CONFIG, STAGE, NAME, { name: "json", kind: "flag", description: "print it as one JSON object" }, HELP],
  details: [
    "Read from the rendered files in the stage dir (pipelock.yaml, sidecars.json): run `bottle build` first.",
    "It says when they are older than the config (the next build renders them again).",
    "A running bottle's pipelock has loaded this policy when the config hash it logged last",
    "(at startup or an accepted reload, in <stage>/logs/pipelock.log) is the rendered file's sha256.",
    "Exit codes: 0 printed, 1 the files are not rendered yet (or unreadable), 2 usage or config error.",
  ].join("\n"),
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const report = await policyReport(await openSession({ config: stringOption(args, "config"), stage: stringOption(args, "stage"), name: stringOption(args, "name") }));
  console.log(args.options.json ? JSON.stringify(report) : formatPolicy(report).join("\n"));
  return EXIT_OK;
}
