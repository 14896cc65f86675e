// bottle launch / bottle resume: build, start the sidecars, the jailed
// network and the machine, attach the agent; tear down when it exits.
import { EXIT_OK } from "../lib/errors.js";
import { CONFIG, HELP, JSON_OUTPUT, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec, type ParsedArgs } from "./args.js";
import { findNamedBottle } from "../app/find-bottle.js";
import { progressFor } from "./progress.js";
import { openSession, type Session } from "../app/session.js";

const UNSAFE = { name: "unsafe-no-jail", kind: "flag", description: "DEBUGGING ONLY: run gvproxy without its network jail (the guest can then reach the host and the internet)" } as const;
const WATCH = { name: "watch", kind: "flag", description: "also watch the config and apply edits live (as `bottle watch`)" } as const;

const DETAILS = [
  "Steps: the build tasks, then sidecars → network → machine → attach. A failure or Ctrl-C",
  "at any step undoes what was started, in reverse order, and says what it cleaned.",
  "When the agent exits, the machine is stopped (not deleted), gvproxy and the sidecars",
  "are stopped, and their logs are kept in <stage>/logs.",
  "Exit codes: the agent's own exit code once it ran; 0 after `bottle stop`; 1 a step failed;",
  "2 usage or config error; 130 interrupted.",
].join("\n");

export const launchSpec: CommandSpec = {
  name: "launch",
  summary: "Build the bottle, start it, and run the agent in it with the terminal attached.",
  options: [CONFIG, STAGE, NAME, JSON_OUTPUT, WATCH, UNSAFE, HELP],
  details: DETAILS,
};

export const resumeSpec: CommandSpec = {
  name: "resume",
  summary: "Start a stopped bottle again, redoing only what is not fresh (a stopped machine with an unchanged Smolfile is started, not re-created).",
  positionals: [{ name: "NAME", description: "the bottle (default: the one configured in ./bottle.config.ts)" }],
  options: [CONFIG, STAGE, JSON_OUTPUT, WATCH, UNSAFE, HELP],
  details: DETAILS,
};

async function launchSession(session: Session, args: ParsedArgs, mode: "launch" | "resume"): Promise<number> {
  const json = Boolean(args.options.json);
  const view = await progressFor({ json });
  const say = (message: string): void => void process.stderr.write(`${message}\n`);
  let alongside: ((signal: AbortSignal) => Promise<void>) | undefined;
  if (args.options.watch) {
    const { watchAlongside } = await import("../app/watch/watch-bottle.js");
    alongside = (signal) => watchAlongside(session, { json, signal });
  }
  return session.backend.launch(session, { mode, unsafeNoJail: Boolean(args.options["unsafe-no-jail"]), view, say, viewShowsFailures: !json, ...(alongside ? { alongside } : {}) });
}

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, launchSpec);
  if (args.options.help) return void console.log(helpText(launchSpec)), EXIT_OK;
  const session = await openSession({ config: stringOption(args, "config"), stage: stringOption(args, "stage"), name: stringOption(args, "name") });
  return launchSession(session, args, "launch");
}

export async function runResume(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, resumeSpec);
  if (args.options.help) return void console.log(helpText(resumeSpec)), EXIT_OK;
  const found = await findNamedBottle(args.positionals[0], { config: stringOption(args, "config"), stage: stringOption(args, "stage") });
  // By NAME: that bottle of its config, whatever name the config itself gives (a bottle launched with --name).
  const session = found.session ?? (await openSession({ config: found.entry.configPath, stage: found.entry.stageDir, name: found.entry.slug }));
  return launchSession(session, args, "resume");
}
