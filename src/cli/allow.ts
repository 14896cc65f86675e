// bottle allow NAME HOST: adds HOST to egress.allow in the bottle's config
// (the file its registry entry names), as `bottle blocked` suggests. With
// `bottle watch` running on that config, the edit reaches the running
// bottle's pipelock live.
import { allowableHost, allowInBottle, policyCommand, watchCommand } from "../app/allow.js";
import { EXIT_FAILED, EXIT_OK, usageError } from "../lib/errors.js";
import { shellQuote } from "../lib/shell-quote.js";
import { HELP, helpText, parseArgs, type CommandSpec } from "./args.js";

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
  const host = allowableHost(rawHost);
  // The config is loaded twice (before and after the edit): each of its warnings is said once. A host
  // that takes writes from anyone gets the warning every load gives it (config/egress-presets.ts).
  const said = new Set<string>();
  const warn = (message: string): void => {
    if (!said.has(message)) process.stderr.write(`warning: ${message}\n`);
    said.add(message);
  };
  const { entry, outcome, running } = await allowInBottle(name, host, warn);
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
