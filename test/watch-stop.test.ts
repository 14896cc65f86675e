// Proves Ctrl-C (and SIGTERM) end `bottle watch` with exit 0 and release the
// stage lock, whether the watcher is idle, running a rebuild, or still in its
// first build; and that `bottle build` works right after.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bottle, isState, killLeftovers, makeProject, saveConfig, startWatch, statesIn, type Project, type ProjectConfig } from "./helpers/watch.js";

test.after.each(killLeftovers);

const BASE: ProjectConfig = { name: "ws", env: { A: "1" }, allow: ["a.example.com"] };

/** The lock is gone and a build right after succeeds (and finds the files as the config says). */
function lockReleased(project: Project): void {
  assert.not.ok(existsSync(join(project.stage, ".lock")), "the stage lock is released");
  const build = bottle(project, ["build", "--json", "--config", project.config]);
  assert.is(build.code, 0, build.stderr);
  assert.not.ok(existsSync(join(project.stage, ".lock")));
}

test("SIGINT while idle: exit 0, lock released, the state machine reports stopped", async () => {
  const project = makeProject(BASE);
  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the initial build");
  assert.equal(await w.interrupt("SIGINT"), { code: 0, signal: null });
  assert.is(statesIn(w.lines).at(-1), "stopped");
  lockReleased(project);
});

test("SIGTERM while idle: exit 0, lock released", async () => {
  const project = makeProject(BASE);
  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the initial build");
  assert.equal(await w.interrupt("SIGTERM"), { code: 0, signal: null });
  lockReleased(project);
});

test("SIGINT during a rebuild: exit 0 once the run is done or aborted, lock released", async () => {
  const project = makeProject(BASE);
  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the initial build");
  const from = w.mark();
  saveConfig(project, { ...BASE, env: { A: "2" }, allow: ["b.example.com"] });
  await w.waitFor(isState("running"), "the rebuild to start", { from });
  assert.equal(await w.interrupt("SIGINT"), { code: 0, signal: null });
  // The signal may land before or after the run ends; either way no new run starts.
  const states = statesIn(w.lines, from);
  assert.is(states.at(-1), "stopped");
  assert.is(states.filter((s) => s === "running").length, 1, `states: ${states.join(", ")}`);
  lockReleased(project);
  assert.match(readFileSync(join(project.stage, "pipelock.yaml"), "utf8"), /b\.example\.com/, "the next build finishes what was interrupted");
});

/** Makes the stage lock look held by this (live) test process, as a `bottle build` elsewhere would. */
function holdLock(project: Project): string {
  mkdirSync(project.stage, { recursive: true, mode: 0o700 });
  const lock = join(project.stage, ".lock");
  const holder = JSON.stringify({ pid: process.pid, host: hostname(), command: "bottle build", since: Date.now() });
  writeFileSync(lock, holder);
  return holder;
}

// Long enough that only the stop itself can end these watchers in time.
const NO_LOCK_TIMEOUT = { env: { BOTTLE_LOCK_TIMEOUT_MS: "600000" } };

test("SIGINT while a rebuild waits for the stage lock: exit 0 at once, the holder's lock left alone", async () => {
  const project = makeProject(BASE);
  const w = startWatch(project, NO_LOCK_TIMEOUT);
  await w.waitFor(isState("idle"), "the initial build");
  const holder = holdLock(project);
  const from = w.mark();
  saveConfig(project, { ...BASE, allow: ["b.example.com"] });
  const waiting = await w.waitFor((l) => l.event === "waiting", "the rebuild to wait for the lock", { from });
  assert.equal(waiting.line.holder, { pid: process.pid, command: "bottle build" });
  assert.equal(await w.interrupt("SIGINT"), { code: 0, signal: null });
  assert.equal(statesIn(w.lines, from).slice(-2), ["stopping", "stopped"]);
  assert.is(readFileSync(join(project.stage, ".lock"), "utf8"), holder, "another process's lock is not touched");
  rmSync(join(project.stage, ".lock"));
  lockReleased(project);
});

test("a rebuild waiting for the stage lock goes ahead once it is free", async () => {
  const project = makeProject(BASE);
  const w = startWatch(project, NO_LOCK_TIMEOUT);
  await w.waitFor(isState("idle"), "the initial build");
  holdLock(project);
  const from = w.mark();
  saveConfig(project, { ...BASE, allow: ["b.example.com"] });
  await w.waitFor((l) => l.event === "waiting", "the rebuild to wait for the lock", { from });
  rmSync(join(project.stage, ".lock"));
  await w.waitFor(isState("idle"), "the rebuild to finish", { from });
  assert.match(readFileSync(join(project.stage, "pipelock.yaml"), "utf8"), /b\.example\.com/);
  assert.equal(await w.interrupt("SIGINT"), { code: 0, signal: null });
  lockReleased(project);
});

test("SIGINT during the first build: exit 0 at once, lock released", async () => {
  const project = makeProject(BASE);
  // The first build waits on a held lock, so the signal surely lands while it runs.
  holdLock(project);
  const w = startWatch(project, NO_LOCK_TIMEOUT);
  await w.waitFor((l) => l.event === "waiting", "the first build to wait for the lock");
  assert.equal(await w.interrupt("SIGINT"), { code: 0, signal: null });
  assert.equal(statesIn(w.lines), ["stopping", "stopped"]);
  rmSync(join(project.stage, ".lock"));
  lockReleased(project);
});

test("SIGINT while the first build is running its tasks: exit 0, lock released", async () => {
  const project = makeProject(BASE);
  const w = startWatch(project);
  await w.waitFor((l) => l.event === "task", "the first build's first task");
  assert.equal(await w.interrupt("SIGINT"), { code: 0, signal: null });
  assert.is(statesIn(w.lines).at(-1), "stopped");
  lockReleased(project);
});

test.run();
