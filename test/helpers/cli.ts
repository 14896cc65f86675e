// Running the real bottle CLI against throwaway projects. Every project gets
// its own isolated home (XDG cache, state and runtime dirs, HOME), shared by
// every run in that project so caches and the run dir stay stable between
// runs, and never touching the real user's directories.
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./tmp.js";

/** dist/src/cli/main.js, next to this compiled helper's dist/test/helpers. */
export const BOTTLE_MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface BottleRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface IsolatedHome {
  root: string;
  XDG_CACHE_HOME: string;
  XDG_STATE_HOME: string;
  XDG_RUNTIME_DIR: string;
  /** os.tmpdir() for bottle, so a write to the shared temp dir shows. */
  TMPDIR: string;
}

/** A config every test can start from: valid, no workspace, no sidecars. */
export function validConfig(): Record<string, unknown> {
  return {
    name: "demo",
    image: "alpine:3.20",
    agent: { command: ["sh", "-c", "sleep 1"], env: { GREETING: "hello" } },
    egress: { allow: ["example.com"] },
  };
}

/**
 * A temp project dir holding bottle.config.ts: a string is written verbatim,
 * an object as `export default <JSON>`. `files` are extra files, relative to
 * the project dir.
 */
export function makeProject(config: string | object, files: Record<string, string> = {}): string {
  const dir = tempDir("bottle-project-");
  writeConfig(dir, config);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Rewrites a project's bottle.config.ts (same rules as makeProject). */
export function writeConfig(dir: string, config: string | object, file = "bottle.config.ts"): string {
  const path = join(dir, file);
  writeFileSync(path, typeof config === "string" ? config : `export default ${JSON.stringify(config, null, 2)};\n`);
  return path;
}

/** Directly under os.tmpdir(), so the run dir's socket paths stay short. */
export function isolatedHome(): IsolatedHome {
  const root = tempDir("bh-");
  const home: IsolatedHome = {
    root,
    XDG_CACHE_HOME: join(root, "cache"),
    XDG_STATE_HOME: join(root, "state"),
    XDG_RUNTIME_DIR: join(root, "run"),
    TMPDIR: join(root, "tmp"),
  };
  for (const dir of [home.XDG_CACHE_HOME, home.XDG_STATE_HOME, home.XDG_RUNTIME_DIR, home.TMPDIR]) mkdirSync(dir, { mode: 0o700 });
  return home;
}

const homes = new Map<string, IsolatedHome>();

/** The isolated home of the project at `cwd` (made on first use). */
export function homeFor(cwd: string): IsolatedHome {
  let home = homes.get(cwd);
  if (!home) {
    home = isolatedHome();
    homes.set(cwd, home);
  }
  return home;
}

/**
 * Runs `node dist/src/cli/main.js ...args` in `cwd` with only PATH kept from
 * this process's environment, CI=1, and the project's isolated home (XDG
 * dirs, HOME and TMPDIR). `env` adds or overrides variables.
 */
export function runBottle(args: readonly string[], options: { cwd: string; env?: Record<string, string>; home?: IsolatedHome; nodeArgs?: readonly string[] }): BottleRun {
  const home = options.home ?? homeFor(options.cwd);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home.root,
    CI: "1",
    NO_COLOR: "1",
    XDG_CACHE_HOME: home.XDG_CACHE_HOME,
    XDG_STATE_HOME: home.XDG_STATE_HOME,
    XDG_RUNTIME_DIR: home.XDG_RUNTIME_DIR,
    TMPDIR: home.TMPDIR,
    ...options.env,
  };
  const result = spawnSync(process.execPath, [...(options.nodeArgs ?? []), BOTTLE_MAIN, ...args], { cwd: options.cwd, env, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Every file and dir under `root` (relative paths, sorted), dirs with a trailing slash. */
export function listTree(root: string): string[] {
  const found: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${entry}` : entry;
      if (lstatSync(join(root, path)).isDirectory()) {
        found.push(`${path}/`);
        walk(path);
      } else {
        found.push(path);
      }
    }
  };
  walk("");
  return found;
}

/** listTree with each entry's mode, size and mtime: equal snapshots mean nothing was written. */
export function snapshotTree(root: string): string[] {
  return listTree(root).map((path) => {
    const st = lstatSync(join(root, path));
    return `${path} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? "-" : st.size} ${st.mtimeMs}`;
  });
}

export interface TaskEvent {
  event: "task";
  task: string;
  status: "ran" | "fresh" | "failed" | "blocked";
  volatile: boolean;
  changed: boolean;
  reasons: string[];
  ms: number;
  error?: string;
}

/** The parsed NDJSON lines of `bottle build --json`; throws on a line that is not JSON. */
export function ndjson(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not an NDJSON line: ${JSON.stringify(line)}\nstdout:\n${stdout}`);
      }
    });
}

export function taskEvents(stdout: string): TaskEvent[] {
  return ndjson(stdout).filter((e): e is Record<string, unknown> & TaskEvent => e.event === "task");
}

/** The tasks a `--json` build ran, sorted. */
export function ranTasks(stdout: string): string[] {
  return taskEvents(stdout)
    .filter((e) => e.status === "ran")
    .map((e) => e.task)
    .sort();
}

/** The reasons a `--json` build gave for running `task`. */
export function reasonsFor(stdout: string, task: string): string[] {
  const event = taskEvents(stdout).find((e) => e.task === task);
  if (!event) throw new Error(`no task event for ${task} in:\n${stdout}`);
  return event.reasons;
}

/** "exit 2\nstdout...\nstderr..." for assertion messages. */
export function describeRun(run: BottleRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
