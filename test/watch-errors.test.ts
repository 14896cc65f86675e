// Proves `bottle watch` with a config that breaks while watching: the error
// names the problem (as `bottle build` words it), every rendered file and
// state.json stay byte for byte (and mtime for mtime) as they were, the
// watcher keeps watching, and the next good save recovers.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  bottle,
  configSource,
  editAndSettle,
  isState,
  killLeftovers,
  makeProject,
  meaningfulTasks,
  readTree,
  saveConfig,
  spawnBottle,
  startWatch,
  statesIn,
  type Line,
  type Project,
  type ProjectConfig,
  type WatchProcess,
} from "./helpers/watch.js";

test.after.each(killLeftovers);

const BASE: ProjectConfig = { name: "we", env: { A: "1" }, allow: ["a.example.com"] };
const noLock = (path: string): boolean => path === ".lock";

async function started(): Promise<{ project: Project; w: WatchProcess }> {
  const project = makeProject(BASE);
  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the initial build to finish");
  return { project, w };
}

interface ConfigErrorLine extends Line {
  file: string;
  problems: { path: string; message: string }[];
}

/** Saves a broken config; returns its config-error line once the watcher is idle again. */
async function breakConfig(w: WatchProcess, save: () => void, what: string): Promise<ConfigErrorLine> {
  const edit = await editAndSettle(w, save, what);
  assert.is(edit.runs.length, 1, "one attempt");
  const errors = edit.lines.filter((l): l is ConfigErrorLine => l.event === "config-error");
  assert.is(errors.length, 1, `one config-error line in ${JSON.stringify(edit.lines)}`);
  assert.not.ok(
    edit.lines.some((l) => l.event === "task" || l.event === "summary"),
    "no task ran",
  );
  return errors[0]!;
}

async function recovers(project: Project, w: WatchProcess): Promise<void> {
  const good = await editAndSettle(w, () => saveConfig(project, { ...BASE, allow: ["fixed.example.com"] }), "the good save");
  assert.is(good.runs.length, 1);
  assert.equal(
    meaningfulTasks(good.runs[0]!.lines).map((t) => [t.task, t.reasons]),
    [["pipelock.yaml", ["input `egress.allow` changed"]]],
  );
  assert.match(readFileSync(join(project.stage, "pipelock.yaml"), "utf8"), /fixed\.example\.com/);
}

test("an unknown key: a config-error naming it, nothing in the stage touched, then a good save recovers", async () => {
  const { project, w } = await started();
  const before = readTree(project.stage, noLock);
  const error = await breakConfig(w, () => saveConfig(project, { ...BASE, allow: ["never.example.com"], extra: "bogus: 1," }), "a save with an unknown key");
  assert.is(error.file, project.config);
  assert.equal(error.problems.map((p) => p.path), ["bogus"]);
  assert.match(error.problems[0]!.message, /^unknown key/);
  assert.equal(readTree(project.stage, noLock), before, "every rendered file and state.json: same bytes, mode and mtime");
  assert.not.ok(readFileSync(join(project.stage, "pipelock.yaml"), "utf8").includes("never.example.com"));
  await recovers(project, w);
  assert.equal(await w.interrupt(), { code: 0, signal: null });
});

test("a syntax error: a config-error saying it failed to load, nothing touched, then recovery", async () => {
  const { project, w } = await started();
  const before = readTree(project.stage, noLock);
  const error = await breakConfig(w, () => saveConfig(project, configSource(BASE).replace("};", "")), "a save with a syntax error");
  assert.equal(error.problems.map((p) => p.path), [""]);
  assert.match(error.problems[0]!.message, /^failed to load: /);
  assert.equal(readTree(project.stage, noLock), before);
  // Still broken (another bad save): reported again, still nothing touched.
  const again = await breakConfig(w, () => saveConfig(project, { ...BASE, extra: "agent: 3," }), "a second broken save");
  assert.ok(again.problems.length >= 1);
  assert.equal(readTree(project.stage, noLock), before);
  await recovers(project, w);
  assert.equal(await w.interrupt(), { code: 0, signal: null });
});

test("the config deleted: an error saying so, nothing touched; written again: recovery", async () => {
  const { project, w } = await started();
  const before = readTree(project.stage, noLock);
  const error = await breakConfig(w, () => rmSync(project.config), "deleting the config");
  assert.match(error.problems[0]!.message, /no such file/);
  assert.equal(readTree(project.stage, noLock), before);
  await recovers(project, w);
  assert.equal(await w.interrupt(), { code: 0, signal: null });
});

test("a config that fails validation on the first build: reported, nothing rendered, fixed by the next save", async () => {
  const project = makeProject(BASE);
  saveConfig(project, { ...BASE, extra: "bogus: 1," });
  const w = startWatch(project);
  const { index } = await w.waitFor(isState("idle"), "the failed first build");
  assert.ok(w.lines.slice(0, index).some((l) => l.event === "config-error"));
  assert.not.ok(existsSync(join(project.stage, "pipelock.yaml")));
  const fixed = await editAndSettle(w, () => saveConfig(project, BASE), "the fix");
  assert.is(fixed.runs.length, 1);
  assert.ok(existsSync(join(project.stage, "pipelock.yaml")));
  assert.equal(await w.interrupt(), { code: 0, signal: null });
});

test("an error that is not the config's on the first build ends the watch with it, as `bottle build` would", async () => {
  const project = makeProject(BASE);
  const long = join(project.home.root, "r".repeat(100));
  mkdirSync(long);
  const w = startWatch(project, { env: { XDG_RUNTIME_DIR: long } });
  assert.equal(await w.ended(), { code: 2, signal: null }, w.stderr());
  assert.match(w.stderr(), /is too long for unix sockets/);
  assert.equal(statesIn(w.lines), ["stopping", "stopped"]);
});

test("without --json the watcher prints the same problem text as `bottle build`, then what the fix re-rendered", async () => {
  const project = makeProject(BASE);
  const w = spawnBottle(project, ["watch", "--config", project.config]);
  await w.waitForRaw((l) => l.includes("ran smolfile.toml"), "the first build's lines");
  saveConfig(project, { ...BASE, extra: "bogus: 1," });
  const build = bottle(project, ["build", "--config", project.config]);
  assert.is(build.code, 2, build.stderr);
  const problem = build.stderr.replace(/^bottle: /, "").trim();
  assert.match(problem, /bogus: unknown key/);
  await w.waitForRaw((l) => l.includes("bogus: unknown key"), "the problem");
  assert.ok(w.stdout().includes(problem), `watch output:\n${w.stdout()}\nbuild said:\n${problem}`);
  assert.match(w.stdout(), /files from the last good build are untouched/);
  const from = w.markRaw();
  saveConfig(project, { ...BASE, allow: ["fixed.example.com"] });
  await w.waitForRaw((l) => /ran pipelock\.yaml: input `egress\.allow` changed/.test(l), "the recovery line", { from });
  assert.equal(await w.interrupt(), { code: 0, signal: null });
});

test.run();
