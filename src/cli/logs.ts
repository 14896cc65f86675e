// bottle logs: a bottle's logs (<stage>/logs/<source>.log), each line
// prefixed with its source; with --follow, new lines as they are written
// until the bottle stops or Ctrl-C. Found in the registry; the config is
// not run. Every log is opened without following a symlink at its name.
import { closeSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { EXIT_OK, errorMessage, usageError } from "../lib/errors.js";
import { LineTail } from "../lib/line-tail.js";
import { openRegularFileNoFollow, readFileNoFollow } from "../lib/no-follow.js";
import { findRegisteredBottle } from "../app/find-bottle.js";
import { logsOf } from "../app/lifecycle.js";
import { CONFIG, HELP, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";

export const spec: CommandSpec = {
  name: "logs",
  summary: "Print a bottle's logs (pipelock, gvproxy, jail, git-gate, injector, supervise: whichever it has), each line prefixed with its source, e.g. `[pipelock] `.",
  positionals: [{ name: "NAME", description: "the bottle (default: the registered bottle launched from ./bottle.config.ts, found in the registry; the config is not run)" }],
  options: [
    CONFIG,
    STAGE,
    { name: "follow", short: "f", kind: "flag", description: "keep printing new lines while the bottle runs; ends when it stops, or on Ctrl-C" },
    { name: "source", kind: "value", valueName: "SOURCE", description: "only this log (pipelock, gvproxy, jail, git-gate, injector, supervise; an unknown one lists what there is)" },
    HELP,
  ],
  details: [
    "The logs are <stage>/logs/<source>.log, fresh at each launch; what a stopped bottle left is its last session's.",
    "Control characters in a line are shown escaped (\\xNN), so a log cannot drive the terminal.",
    "Exit codes: 0 printed (also when there are no logs yet, or after Ctrl-C with --follow), 1 a log cannot be read, 2 usage error, no such bottle or no such source.",
  ].join("\n"),
};

interface Source {
  name: string;
  path: string;
}

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const found = await findRegisteredBottle(args.positionals[0], { config: stringOption(args, "config"), stage: stringOption(args, "stage") });
  const { entry } = found;
  const logs = await logsOf(found);
  const only = stringOption(args, "source");
  const sources = only === undefined ? logs.sources : logs.sources.filter((s) => s.name === only);
  if (only !== undefined && sources.length === 0) {
    const there = logs.sources.map((s) => s.name).join(", ");
    throw usageError(`${entry.slug} has no log \`${only}\`; ${there ? `its logs: ${there}` : `it has no logs yet (${logs.dir})`}`);
  }
  exitQuietlyOnClosedOutput();
  if (!args.options.follow) {
    if (sources.length === 0) process.stderr.write(`${entry.slug} has no logs yet (${logs.dir} is written while it runs)\n`);
    for (const source of sources) print(source.name, lines(readFileNoFollow(source.path) ?? ""));
    return EXIT_OK;
  }
  if (logs.untilStopped === null) {
    for (const source of sources) print(source.name, lines(readFileNoFollow(source.path) ?? ""));
    process.stderr.write(`${entry.slug} is not running: nothing more to follow\n`);
    return EXIT_OK;
  }
  const interrupted = await follow(logs.dir, sources, only, logs.untilStopped);
  if (!interrupted) process.stderr.write(`${entry.slug} stopped\n`);
  return EXIT_OK;
}

/**
 * Prints each source as it grows until `untilStopped` resolves (the bottle
 * stopped: what it wrote last is printed too) or Ctrl-C; true when
 * interrupted. Watches the logs dir, so a log that appears meanwhile
 * (without --source) is followed too.
 */
async function follow(dir: string, initial: readonly Source[], only: string | undefined, untilStopped: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
  const tails = new Map<string, LineTail>();
  const fds: number[] = [];
  /** Sources refused once (a symlink at the name): not tried again at every change. */
  const refused = new Set<string>();
  const open = (source: Source): void => {
    if (tails.has(source.name) || refused.has(source.name)) return;
    try {
      const fd = openRegularFileNoFollow(source.path);
      if (fd === null) return;
      fds.push(fd);
      tails.set(source.name, new LineTail(fd));
    } catch (error) {
      refused.add(source.name);
      process.stderr.write(`warning: not following ${source.path}: ${errorMessage(error)}\n`);
    }
  };
  const pump = (name: string): void => {
    const tail = tails.get(name);
    if (tail) print(name, tail.read());
  };
  // Before anything is printed: Ctrl-C from then on ends the follow, not the process.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let watcher: FSWatcher | null = null;
  try {
    for (const source of initial) open(source);
    for (const name of tails.keys()) pump(name);
    watcher = watchLogs(dir, (file) => {
      const name = /^([a-z0-9-]+)\.log$/.exec(file)?.[1];
      if (name === undefined || (only !== undefined && name !== only)) return;
      open({ name, path: join(dir, file) });
      pump(name);
    });
    watcher?.on("error", () => stop.abort());
    // Lines written before the watch began.
    for (const name of tails.keys()) pump(name);
    await untilStopped(stop.signal);
  } finally {
    watcher?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  // What was written last; once the bottle has stopped, a line its writer never finished too.
  for (const [name, tail] of tails) {
    const last = tail.read();
    const unfinished = stop.signal.aborted ? "" : tail.rest();
    print(name, unfinished === "" ? last : [...last, unfinished]);
  }
  for (const fd of fds) closeSync(fd);
  return stop.signal.aborted;
}

/** Watches the logs dir for changes to the files in it; null when there is no such dir (then only the bottle's stop is waited for). */
function watchLogs(dir: string, changed: (file: string) => void): FSWatcher | null {
  try {
    return watch(dir, (_event, file) => {
      if (file !== null) changed(file);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function lines(text: string): string[] {
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return all;
}

function print(source: string, text: readonly string[]): void {
  if (text.length === 0) return;
  process.stdout.write(text.map((line) => `[${source}] ${printable(line)}\n`).join(""));
}

/** Control characters escaped (a carriage return ending a line dropped): a guest's bytes in a log must not drive the terminal. */
function printable(line: string): string {
  return line.replace(/\r$/, "").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** `bottle logs | head`: a closed pipe ends the command quietly, as for cat. */
function exitQuietlyOnClosedOutput(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT_OK);
    throw error;
  });
}
