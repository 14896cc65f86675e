// Driving a real `bottle watch --json` process: a temp project with isolated
// XDG dirs, the watcher's NDJSON lines collected as they come, and waits on
// those lines (never on time; a safety timeout only turns a hang into a
// failure that shows what was seen).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withTimeout } from "./process.js";

/** dist/src/cli/main.js, next to this compiled helper's dist/test/helpers. */
export const BOTTLE = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export type Line = Record<string, unknown> & { event: string };

const cleanups: (() => void)[] = [];
const running = new Set<WatchProcess>();

process.on("exit", () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // best effort at exit
    }
  }
});

/**
 * Ends every bottle process a test left running (a failed assertion skips
 * the test's own stop): SIGTERM first, so a launched bottle tears down its
 * children, then SIGKILL if it is still there after a while. Register it
 * with `test.after.each(killLeftovers)`: a child's open pipes would
 * otherwise keep the suite's process alive.
 */
export async function killLeftovers(): Promise<void> {
  const left = [...running];
  running.clear();
  await Promise.all(
    left.map(async (p) => {
      p.child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          p.child.kill("SIGKILL");
          resolve();
        }, 15_000);
      });
      await Promise.race([p.exit, late]);
      clearTimeout(timer);
      await p.exit;
    }),
  );
}

/** A fresh temp dir (directly under os.tmpdir()), removed at exit. */
export function scratchDir(prefix = "bw-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Project {
  dir: string;
  config: string;
  /** <dir>/.bottle/<name>: rendered files, state.json, the lock. */
  stage: string;
  /** <XDG_RUNTIME_DIR>/bottle/<name>: a running bottle's supervisor.json and control socket. */
  runDir: string;
  home: { root: string; XDG_CACHE_HOME: string; XDG_STATE_HOME: string; XDG_RUNTIME_DIR: string };
  /** The environment every bottle process of this project runs with. */
  env: NodeJS.ProcessEnv;
}

export interface ProjectConfig {
  name: string;
  env: Record<string, string>;
  allow: string[];
  /** Extra top-level source after the config (e.g. a stray key), verbatim. */
  extra?: string;
}

/** bottle.config.ts source for the watch tests (workspace ./ws, agent `sh`). */
export function configSource(c: ProjectConfig): string {
  return [
    "export default {",
    `  name: ${JSON.stringify(c.name)},`,
    '  image: "alpine:3",',
    `  agent: { command: ["sh"], env: ${JSON.stringify(c.env)} },`,
    `  egress: { allow: ${JSON.stringify(c.allow)} },`,
    '  workspace: { host: "./ws", guest: "/workspace" },',
    ...(c.extra ? [`  ${c.extra}`] : []),
    "};",
    "",
  ].join("\n");
}

/**
 * A temp project (bottle.config.ts + ws/) with its own XDG cache, state and
 * runtime dirs and HOME, all removed at exit. The runtime dir sits directly
 * under os.tmpdir() so the run dir's socket paths stay short.
 */
export function makeProject(config: ProjectConfig, extraEnv: Record<string, string> = {}): Project {
  const dir = scratchDir("bw-proj-");
  const root = scratchDir("bw-");
  const home = { root, XDG_CACHE_HOME: join(root, "c"), XDG_STATE_HOME: join(root, "s"), XDG_RUNTIME_DIR: join(root, "r") };
  for (const d of [home.XDG_CACHE_HOME, home.XDG_STATE_HOME, home.XDG_RUNTIME_DIR]) mkdirSync(d, { mode: 0o700 });
  mkdirSync(join(dir, "ws"));
  const configPath = join(dir, "bottle.config.ts");
  writeFileSync(configPath, configSource(config));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    CI: "1",
    NO_COLOR: "1",
    XDG_CACHE_HOME: home.XDG_CACHE_HOME,
    XDG_STATE_HOME: home.XDG_STATE_HOME,
    XDG_RUNTIME_DIR: home.XDG_RUNTIME_DIR,
    ...extraEnv,
  };
  return { dir, config: configPath, stage: join(dir, ".bottle", config.name), runDir: join(home.XDG_RUNTIME_DIR, "bottle", config.name), home, env };
}

/**
 * Saves the config as most editors do: the new text in a temp file beside
 * it, renamed over it (one atomic change, so one run however loaded the
 * machine is).
 */
export function saveConfig(project: Project, config: ProjectConfig | string): void {
  const temp = join(dirname(project.config), `.bottle.config.ts.${process.pid}.swp`);
  writeFileSync(temp, typeof config === "string" ? config : configSource(config));
  renameSync(temp, project.config);
}

/** Replaces `path` atomically: `text` in a temp file beside it, renamed over it. */
export function atomicWrite(path: string, text: string, mode?: number): void {
  const temp = join(dirname(path), `.${process.pid}.tmp`);
  writeFileSync(temp, text, mode === undefined ? {} : { mode });
  renameSync(temp, path);
}

/** An editor's rename dance (the same as saveConfig, named for what the test is about). */
export const renameOver = saveConfig;

/**
 * Rewrites the config in place: truncated, then written. The watcher may see
 * it empty in between, so a run may fail on it before the next one builds
 * the text.
 */
export function writeInPlace(project: Project, config: ProjectConfig | string): void {
  writeFileSync(project.config, typeof config === "string" ? config : configSource(config));
}

/** Runs `bottle <args>` to completion in the project with its environment. */
export function bottle(project: Project, args: string[], extraEnv: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BOTTLE, ...args], {
    cwd: project.dir,
    env: { ...project.env, ...extraEnv },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under `root` with its bytes (as text), sorted by path; `skip` drops paths. */
export function readTree(root: string, skip: (path: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${entry}` : entry;
      if (skip(path)) continue;
      const st = lstatSync(join(root, path));
      if (st.isDirectory()) walk(path);
      else out[path] = `${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${readFileSync(join(root, path), "latin1")}`;
    }
  };
  walk("");
  return out;
}

export interface Stream {
  /** Parsed NDJSON lines, in order. */
  readonly lines: Line[];
  /** Every raw line of the stream (JSON or not). */
  readonly raw: string[];
  /** How many lines have been seen: pass it as `from` to wait only on what comes next. */
  mark(): number;
  /** As mark, for waitForRaw. */
  markRaw(): number;
  /** The first line at index >= from that matches; rejects if the process exits or the safety timeout passes. */
  waitFor(predicate: (line: Line) => boolean, what: string, options?: { from?: number; timeoutMs?: number }): Promise<{ line: Line; index: number }>;
  /** As waitFor, on raw lines. */
  waitForRaw(predicate: (line: string) => boolean, what: string, options?: { from?: number; timeoutMs?: number }): Promise<string>;
}

export interface WatchProcess extends Stream {
  child: ChildProcess;
  /** The files an edit is usually made to (the project's config): editAndSettle waits for a run that read them. */
  watched: string[];
  stdout(): string;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGINT (or `signal`) and waits for the exit; SIGKILLs and throws after the safety timeout. */
  interrupt(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the exit without signalling; SIGKILLs and throws after the safety timeout. */
  ended(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const SAFETY_TIMEOUT_MS = 20_000;

/**
 * Spawns `node dist/src/cli/main.js <args>` in the project. NDJSON lines are
 * read from `source` (stdout by default); with a `prefix` only lines that
 * start with it are parsed (the rest is kept as raw text). The child is
 * SIGKILLed at exit if a failing test left it running.
 */
export function spawnBottle(
  project: Project,
  args: string[],
  options: { env?: Record<string, string>; source?: "stdout" | "stderr"; prefix?: string; wrap?: (argv: string[]) => string[] } = {},
): WatchProcess {
  const [command, ...argv] = (options.wrap ?? ((a) => a))([process.execPath, BOTTLE, ...args]);
  const child = spawn(command!, argv, { cwd: project.dir, env: { ...project.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  const lines: Line[] = [];
  const raw: string[] = [];
  let partial = "";
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  const prefix = options.prefix ?? "";
  const onLine = (text: string): void => {
    raw.push(text);
    if (!text.startsWith(prefix)) return;
    const body = text.slice(prefix.length);
    if (!body.startsWith("{")) return;
    try {
      lines.push(JSON.parse(body) as Line);
    } catch {
      lines.push({ event: "unparseable", text: body });
    }
  };
  const feed = (chunk: string): void => {
    partial += chunk;
    let end: number;
    while ((end = partial.indexOf("\n")) !== -1) {
      onLine(partial.slice(0, end));
      partial = partial.slice(end + 1);
    }
    notify();
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    if ((options.source ?? "stdout") === "stdout") feed(chunk);
  });
  child.stderr!.on("data", (chunk: string) => {
    stderr += chunk;
    if (options.source === "stderr") feed(chunk);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      if (partial) onLine(partial);
      partial = "";
      exited = { code, signal };
      notify();
      resolve(exited);
    });
  });

  const describe = (): string =>
    `\n--- lines seen (${raw.length})\n${raw.map((l, i) => `${i}: ${l}`).join("\n")}\n--- stderr\n${options.source === "stderr" ? "(parsed above)" : stderr}`;

  function waitOn<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found !== undefined) return finish(() => resolve(found));
        if (exited) finish(() => reject(new Error(`bottle exited (${exited!.code ?? exited!.signal}) before ${what}${describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`safety timeout (${timeoutMs} ms) waiting for ${what}${describe()}`))), timeoutMs);
      const finish = (action: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        action();
      };
      listeners.add(check);
      check();
    });
  }

  function exitWithin(what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return withTimeout(exit, `bottle to exit ${what}`, SAFETY_TIMEOUT_MS, () => {
      child.kill("SIGKILL");
      return describe();
    });
  }

  const handle: WatchProcess = {
    child,
    watched: [project.config],
    lines,
    raw,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    mark: () => lines.length,
    markRaw: () => raw.length,
    waitFor(predicate, what, { from = 0, timeoutMs = SAFETY_TIMEOUT_MS } = {}) {
      return waitOn(
        () => {
          for (let index = from; index < lines.length; index++) if (predicate(lines[index]!)) return { line: lines[index]!, index };
          return undefined;
        },
        what,
        timeoutMs,
      );
    },
    waitForRaw(predicate, what, { from = 0, timeoutMs = SAFETY_TIMEOUT_MS } = {}) {
      return waitOn(() => raw.slice(from).find(predicate), what, timeoutMs);
    },
    interrupt(signal: NodeJS.Signals = "SIGINT") {
      if (!exited) child.kill(signal);
      return exitWithin(`after ${signal}`);
    },
    ended: () => exitWithin("on its own"),
  };
  running.add(handle);
  void exit.then(() => running.delete(handle));
  return handle;
}

/** `bottle watch --json --config <project config>` with the project's environment. */
export function startWatch(project: Project, options: { args?: string[]; env?: Record<string, string> } = {}): WatchProcess {
  return spawnBottle(project, ["watch", "--json", "--config", project.config, ...(options.args ?? [])], options.env ? { env: options.env } : {});
}

// ---- reading the line stream ----

export const isState = (state: string) => (line: Line): boolean => line.event === "state" && line.state === state;

export interface TaskLine extends Line {
  event: "task";
  task: string;
  status: "ran" | "fresh" | "failed" | "blocked";
  volatile: boolean;
  changed: boolean;
  reasons: string[];
}

export const isTask = (line: Line): line is TaskLine => line.event === "task";

/** What a person is shown: tasks that ran and changed something (volatile ones only if their result changed), or failed. */
export function meaningfulTasks(lines: readonly Line[]): TaskLine[] {
  return lines.filter(isTask).filter((t) => t.status === "failed" || t.status === "blocked" || (t.status === "ran" && (!t.volatile || t.changed)));
}

/** States the watcher went through in lines[from, to). */
export function statesIn(lines: readonly Line[], from = 0, to = lines.length): string[] {
  return lines.slice(from, to).filter((l) => l.event === "state").map((l) => String(l.state));
}

export interface Run {
  /** Index of the `state: running` line (-1 for the initial build, which starts without one). */
  start: number;
  /** Index of the line that ended the run (its `summary`, `config-error` or `error`). */
  end: number;
  lines: Line[];
}

/**
 * Splits the stream into runs and checks they never overlap: after a run
 * starts, no other starts before it ends with a summary (or a config error),
 * and no task reports twice within one run. Throws on any violation.
 * From line 0 the initial build counts as a run (it starts without a
 * `state: running` line); from a later line, pass an index where the watcher
 * was idle.
 */
export function runsOf(lines: readonly Line[], from = 0, to = lines.length): Run[] {
  const runs: Run[] = [];
  let current: { start: number; tasks: Set<string> } | undefined = from === 0 ? { start: -1, tasks: new Set() } : undefined;
  lines.slice(0, to).forEach((line, index) => {
    if (index < from) return;
    if (line.event === "state" && line.state === "running") {
      if (current) throw new Error(`run started at line ${index} while the run from line ${current.start} had not ended`);
      current = { start: index, tasks: new Set() };
    } else if (line.event === "task" || line.event === "summary" || line.event === "config-error" || line.event === "error") {
      if (!current) throw new Error(`line ${index} (${JSON.stringify(line)}) outside any run`);
      if (line.event === "task") {
        const task = String(line.task);
        if (current.tasks.has(task)) throw new Error(`task ${task} reported twice in the run from line ${current.start} (line ${index}): runs overlap`);
        current.tasks.add(task);
        return;
      }
      if (line.event === "summary") {
        const counted = ["ran", "fresh", "failed", "blocked"].reduce((n, k) => n + Number(line[k]), 0);
        if (counted !== current.tasks.size) throw new Error(`summary at line ${index} counts ${counted} tasks but the run reported ${current.tasks.size}`);
      }
      runs.push({ start: current.start, end: index, lines: lines.slice(current.start + 1, index + 1) });
      current = undefined;
    }
  });
  return runs;
}

export interface Settled {
  /** Index of the first line after the edit. */
  from: number;
  /** Index of the `state: idle` line that ended it. */
  idle: number;
  lines: Line[];
  runs: Run[];
}

export function sha256File(path: string): string {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return "missing";
  }
}

/**
 * Waits until the watcher has built the files as they are now: a run whose
 * `{"event":"run","reads":…}` line has each file's current content hash,
 * then the `state: idle` after it. (The first idle after an edit is not
 * enough: under load the watcher may run on a save still half-written, go
 * idle, and only then see the rest.)
 */
export async function settled(w: WatchProcess, from: number, files: readonly string[], what: string): Promise<number> {
  const hashes = files.map((file) => [file, sha256File(file)] as const);
  const read = await w.waitFor(
    (l) => l.event === "run" && hashes.every(([file, hash]) => (l.reads as Record<string, string>)[file] === hash),
    `a run that reads ${what}`,
    { from },
  );
  const idle = await w.waitFor(isState("idle"), `idle after the run that read ${what}`, { from: read.index });
  return idle.index;
}

/**
 * Makes an edit while the watcher is idle and waits until it has built it
 * (see settled; `files` are the files the edit touches, the config by
 * default). First checks the watcher stayed quiet since it last went idle
 * (no state change at all: nothing ran behind the test's back).
 */
export async function editAndSettle(w: WatchProcess, edit: () => void, what: string, files: readonly string[] = w.watched): Promise<Settled> {
  assertQuiet(w, what);
  const from = w.mark();
  edit();
  const idle = await settled(w, from, files, what);
  return { from, idle, lines: w.lines.slice(from, idle + 1), runs: runsOf(w.lines, from, idle + 1) };
}

/** Throws unless the last state line is `idle` and nothing but `ignored` (or `live`) lines came after it. */
export function assertQuiet(w: WatchProcess, before: string): void {
  let last = -1;
  w.lines.forEach((line, index) => {
    if (line.event === "state") last = index;
  });
  const after = w.lines.slice(last + 1).filter((l) => l.event !== "ignored" && l.event !== "live");
  if (last === -1 || w.lines[last]!.state !== "idle" || after.length) {
    throw new Error(`the watcher was not quietly idle before ${before}: last state line ${last}, then ${JSON.stringify(after)}\n${w.raw.join("\n")}`);
  }
}

/**
 * Waits until a same-content event from `from` on has been dealt with: an
 * `ignored` line for `file`, and, if the watcher started debouncing first (an
 * in-place save truncates the file before writing it back), its return to
 * idle. Throws if a run started.
 */
export async function waitIgnored(w: WatchProcess, file: string, from: number, what: string): Promise<void> {
  const { index } = await w.waitFor((l) => l.event === "ignored" && l.file === file, `${what} to be ignored`, { from });
  if (statesIn(w.lines, from, index).length) await w.waitFor(isState("idle"), `idle after ${what}`, { from: index });
  const states = statesIn(w.lines, from);
  if (states.includes("running")) throw new Error(`${what} started a run: states ${states.join(", ")}\n${w.raw.join("\n")}`);
}
