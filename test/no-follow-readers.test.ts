// Every reader of bottle's own records goes through readFileNoFollow (issue
// 20): a symlink at the record's name is refused, never read through (a
// forged record elsewhere must not be taken for bottle's), and a FIFO there
// neither hangs the reader nor is read. One case per caller: the registry
// entry (listBottles), the launch record (readLaunchRecord, and a launch
// claiming the run dir), the stage mark and the state file
// (stageMarkProblem, and `bottle rm`), and the log copied out of the run
// dir (saveLogCopy). The FIFO cases run in a child process, so a reader that
// blocks on the FIFO is reported as blocked instead of hanging the suite.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { claimLaunchRecord, readLaunchRecord } from "../src/backends/smolmachines/launch-record.js";
import { stageMarkProblem } from "../src/backends/smolmachines/stage-dir.js";
import { listBottles } from "../src/app/registry.js";
import { snapshotTree } from "./helpers/cli.js";
import { describe, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const SLUG = "demo";
const STATE = JSON.stringify({ format: "bottle-graph-state", version: 1, tasks: {}, files: {}, failures: {} });

/** A file outside bottle's dirs holding `text`: what a planted symlink points at. */
function elsewhere(name: string, text: string): string {
  const path = join(tempDir("bnf-else-"), name);
  writeFileSync(path, text);
  return path;
}

function mkfifo(path: string): void {
  const made = spawnSync("mkfifo", ["-m", "0600", path], { encoding: "utf8" });
  assert.is(made.status, 0, `mkfifo ${path}: ${made.stderr}`);
}

/** <tmp>/<levels...>, each level made 0700 (bottle's own levels must be private). */
function privateDir(...levels: string[]): string {
  let dir = tempDir("bnf-");
  for (const level of levels) {
    dir = join(dir, level);
    mkdirSync(dir, { mode: 0o700 });
  }
  return dir;
}

/**
 * Calls `fn` of the compiled module `module` (relative to this file) with
 * `args` in a child process: "returned <json>", "threw <message>", or
 * "blocked" when it did not finish (a blocking open of a FIFO with no writer).
 */
function outcomeInChild(module: string, fn: string, args: unknown[]): string {
  const url = new URL(module, import.meta.url).href;
  const code = `const m = await import(${JSON.stringify(url)});
try { console.log("returned " + JSON.stringify(m[${JSON.stringify(fn)}](...${JSON.stringify(args)}) ?? null)); }
catch (error) { console.log("threw " + error.message); }`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 20_000 });
  if (run.error || run.signal) return "blocked";
  return run.stdout.trim() || `no output: ${run.stderr}`;
}

function entry(slug: string): string {
  return JSON.stringify({ slug, backend: "smolmachines", configPath: "/p/bottle.config.ts", stageDir: "/p/.bottle/x", runDir: "/r/bottle/x", octet: 7, writable: [], updatedAt: 1 });
}

test("registry: an entry that is a symlink to a forged entry is not listed; a FIFO entry neither blocks nor is listed", () => {
  const state = privateDir();
  const registry = join(state, "bottle", "bottles");
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  const env = { XDG_STATE_HOME: state };
  writeFileSync(join(registry, "real.json"), entry("real"));
  symlinkSync(elsewhere("forged.json", entry("forged")), join(registry, "forged.json"));
  assert.equal(listBottles(env).map((e) => e.slug), ["real"]);
  mkfifo(join(registry, "piped.json"));
  assert.is(outcomeInChild("../src/app/registry.js", "listBottles", [env]).replace(/"updatedAt":1.*$/, ""), `returned [{"slug":"real","backend":"smolmachines","configPath":"/p/bottle.config.ts","stageDir":"/p/.bottle/x","runDir":"/r/bottle/x","octet":7,"writable":[],`);
});

function runtimeRecord(pid: number): string {
  return JSON.stringify({ pid, pidStartTime: "1", slug: SLUG, stageDir: "/s", configPath: "/c", octet: 7, ports: {}, children: {}, startedAt: 1, control: "/x" });
}

test("launch record: a symlink at supervisor.json is refused by readLaunchRecord, and by a launch claiming the run dir", () => {
  const runDir = privateDir("bottle", SLUG);
  const forged = elsewhere("supervisor.json", runtimeRecord(process.pid));
  symlinkSync(forged, join(runDir, "supervisor.json"));
  assert.throws(() => readLaunchRecord(runDir), /supervisor\.json is a symlink; bottle does not follow symlinks there/);
  assert.throws(() => claimLaunchRecord(runDir, { slug: SLUG, stageDir: "/s", configPath: "/c", octet: 7 }), /supervisor\.json is a symlink/);
  assert.is(readFileSync(forged, "utf8"), runtimeRecord(process.pid), "the link's target was changed");
});

test("launch record: a FIFO at supervisor.json is refused without blocking", () => {
  const runDir = privateDir("bottle", SLUG);
  mkfifo(join(runDir, "supervisor.json"));
  assert.is(outcomeInChild("../src/backends/smolmachines/launch-record.js", "readLaunchRecord", [runDir]), `threw ${join(runDir, "supervisor.json")} is not a regular file; remove it`);
});

test("stage mark: a symlink at bottle.json naming the bottle is refused, as is a symlink at state.json of a stage from before the mark", () => {
  const stage = privateDir(SLUG);
  symlinkSync(elsewhere("bottle.json", JSON.stringify({ format: "bottle-stage", slug: SLUG })), join(stage, "bottle.json"));
  assert.throws(() => stageMarkProblem(stage, SLUG), /bottle\.json is a symlink/);
  const old = privateDir(SLUG);
  symlinkSync(elsewhere("state.json", STATE), join(old, "state.json"));
  assert.throws(() => stageMarkProblem(old, SLUG), /state\.json is a symlink/);
});

test("stage mark: a FIFO at bottle.json, or at state.json, is refused without blocking", () => {
  const stage = privateDir(SLUG);
  mkfifo(join(stage, "bottle.json"));
  assert.is(outcomeInChild("../src/backends/smolmachines/stage-dir.js", "stageMarkProblem", [stage, SLUG]), `threw ${join(stage, "bottle.json")} is not a regular file; remove it`);
  const old = privateDir(SLUG);
  mkfifo(join(old, "state.json"));
  assert.is(outcomeInChild("../src/backends/smolmachines/stage-dir.js", "stageMarkProblem", [old, SLUG]), `threw ${join(old, "state.json")} is not a regular file; remove it`);
});

test("bottle rm --yes of a bottle whose stage mark is a symlink to a forged mark: refused, nothing deleted", async () => {
  const project = makeProject(SLUG);
  const stage = project.stageDir;
  mkdirSync(join(stage, "logs"), { recursive: true, mode: 0o700 });
  writeFileSync(join(stage, "state.json"), STATE);
  writeFileSync(join(stage, "pipelock.yaml"), "mine\n");
  writeFileSync(join(stage, "logs", "pipelock.log"), "mine\n");
  symlinkSync(elsewhere("bottle.json", JSON.stringify({ format: "bottle-stage", slug: SLUG })), join(stage, "bottle.json"));
  const registry = join(project.home.XDG_STATE_HOME, "bottle", "bottles");
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  const entryFile = join(registry, `${SLUG}.json`);
  writeFileSync(entryFile, JSON.stringify({ slug: SLUG, backend: "smolmachines", configPath: join(project.dir, "bottle.config.ts"), stageDir: stage, runDir: project.runDir, octet: 7, writable: [], updatedAt: 1 }));
  const before = snapshotTree(stage);
  const rm = await runBottle(project, ["rm", SLUG, "--yes"]);
  assert.is.not(rm.code, 0, describe(rm));
  assert.match(rm.stderr, `${join(stage, "bottle.json")} is a symlink`);
  assert.equal(snapshotTree(stage), before, "the stage changed");
  assert.is(readFileSync(entryFile, "utf8").includes(stage), true, "the registry entry is kept");
});

test("the log copied out of the run dir: a FIFO in its place is refused without blocking, and nothing is copied", () => {
  const run = tempDir("bnf-run-");
  const stage = privateDir("stage");
  mkfifo(join(run, "gvproxy.log"));
  assert.is(outcomeInChild("../src/backends/smolmachines/logs.js", "saveLogCopy", [join(run, "gvproxy.log"), stage, "gvproxy"]), `threw ${join(run, "gvproxy.log")} is not a regular file; remove it`);
  assert.equal(snapshotTree(stage), [], "something was written to the stage");
});

test.run();
