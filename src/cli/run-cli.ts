// The CLI proper: dispatch to one module per command, loaded lazily
// so a command pays only for what it uses.
import module from "node:module";
import { BottleError, EXIT_BUG, EXIT_USAGE } from "../lib/errors.js";

type Command = { run(argv: readonly string[]): Promise<number> };

/**
 * `loadsConfig`: the command evaluates a config, and turns the compile cache
 * on itself once it has (app/session.ts). The others turn it on first thing,
 * where Node has one (22.1+): on Node 20 its checks are not even loaded.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command>; loadsConfig?: true }> = {
  init: { summary: "write a bottle config for a project (outside it)", load: () => import("./init.js") },
  doctor: { summary: "check that this machine can launch a bottle, with fixes", load: () => import("./doctor.js"), loadsConfig: true },
  build: { summary: "render the bottle's files, redoing only what changed", load: () => import("./build.js"), loadsConfig: true },
  graph: { summary: "print the task graph (text, mermaid, dot, json)", load: () => import("./graph.js"), loadsConfig: true },
  explain: { summary: "say why each task will run or is fresh", load: () => import("./explain.js"), loadsConfig: true },
  policy: { summary: "print what the bottle may reach and what checks what leaves", load: () => import("./policy.js"), loadsConfig: true },
  launch: { summary: "build, start the bottle and attach the agent", load: () => import("./launch.js"), loadsConfig: true },
  resume: { summary: "start a stopped bottle again, reusing what is fresh", load: () => import("./resume.js"), loadsConfig: true },
  stop: { summary: "stop a running bottle (from another terminal)", load: () => import("./stop.js") },
  ls: { summary: "list the bottles on this machine", load: () => import("./ls.js") },
  rm: { summary: "remove a bottle: machine, processes, files", load: () => import("./rm.js") },
  watch: { summary: "re-render on config edits; apply egress changes live", load: () => import("./watch.js"), loadsConfig: true },
  logs: { summary: "print a bottle's logs, prefixed by source; --follow while it runs", load: () => import("./logs.js") },
  blocked: { summary: "show what pipelock refused, and the config edit that would allow it", load: () => import("./blocked.js") },
  allow: { summary: "add a host to egress.allow in a bottle's config (live with `bottle watch`)", load: () => import("./allow.js"), loadsConfig: true },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return [
    "usage: bottle <command> [options]",
    "",
    "Runs a coding agent in a smolvm microVM whose only way out is an allowlisting proxy.",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    "",
    "`bottle <command> --help` (or `bottle help <command>`) describes a command's options.",
    "Exit codes: 0 ok, 1 a task or step failed, 2 usage or config error, 70 internal error, 130 interrupted.",
  ].join("\n");
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function unknownCommand(name: string): number {
  const [closest] = Object.keys(COMMANDS)
    .map((command) => ({ command, score: distance(name.toLowerCase(), command) }))
    .sort((a, b) => a.score - b.score);
  const hint = closest && closest.score <= Math.max(1, Math.floor(closest.command.length / 3)) ? ` (did you mean \`${closest.command}\`?)` : "";
  process.stderr.write(`bottle: unknown command \`${name}\`${hint}\n\n${usage()}\n`);
  return EXIT_USAGE;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    process.stderr.write(`${usage()}\n`);
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    // `bottle help CMD` is `bottle CMD --help`.
    const topic = name === "help" ? rest[0] : undefined;
    if (topic === undefined) {
      console.log(usage());
      return 0;
    }
    const command = COMMANDS[topic];
    if (!command) return unknownCommand(topic);
    return (await command.load()).run(["--help"]);
  }
  if (name === "--version") {
    const { packageVersion } = await import("../lib/package-root.js");
    console.log(`bottle ${packageVersion()}`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) return unknownCommand(name);
  if (!command.loadsConfig && "enableCompileCache" in module) (await import("../app/compile-cache.js")).enableCompileCacheFor(null);
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof BottleError && error.exitCode !== EXIT_BUG) {
      process.stderr.write(`bottle: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`bottle: internal error (a bug in bottle; please report it with this output)\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT_BUG;
    }
  },
);
