// Proves `bottle watch` against a real watcher process: after the initial
// build, a config edit re-renders only what it affects (with its reason),
// same-content events (touch, a save without edits, an editor's rename
// dance) cause no run, a burst of saves never overlaps runs and ends with the
// last save's files, files the config imports are watched and re-read, and
// the stage's own outputs are never watched.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import {
  bottle,
  configSource,
  editAndSettle,
  isState,
  killLeftovers,
  waitIgnored,
  writeInPlace,
  atomicWrite,
  makeProject,
  meaningfulTasks,
  readTree,
  renameOver,
  runsOf,
  saveConfig,
  settled,
  startWatch,
  statesIn,
  type Project,
  type ProjectConfig,
  type WatchProcess,
} from "./helpers/watch.js";

test.after.each(killLeftovers);

const BASE: ProjectConfig = { name: "wp", env: { A: "1" }, allow: ["a.example.com"] };
const noLock = (path: string): boolean => path === ".lock";

async function started(config: ProjectConfig = BASE, project: Project = makeProject(config)): Promise<{ project: Project; w: WatchProcess }> {
  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the initial build to finish");
  return { project, w };
}

async function stop(w: WatchProcess): Promise<void> {
  const exit = await w.interrupt();
  assert.equal(exit, { code: 0, signal: null }, `watch exit\n${w.stderr()}`);
}

/** Paths whose bytes, mode or mtime differ between two readTree snapshots. */
function touched(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((path) => before[path] !== after[path]).sort();
}

function allowlist(project: Project): string[] {
  return (parse(readFileSync(join(project.stage, "pipelock.yaml"), "utf8")) as { api_allowlist: string[] }).api_allowlist;
}

test("the initial build renders every file once and reports each task", async () => {
  const { project, w } = await started();
  const runs = runsOf(w.lines);
  assert.is(runs.length, 1);
  assert.equal(
    meaningfulTasks(runs[0]!.lines)
      .map((t) => t.task)
      .sort(),
    ["guest", "gvproxy.yaml", "injector", "pipelock.yaml", "ports", "preflight", "sidecars.json", "smolfile.toml", "subnet", "tls"],
  );
  assert.ok(allowlist(project).includes("a.example.com"));
  await stop(w);
});

test("an agent.env edit runs once and re-renders only smolfile.toml, naming the input", async () => {
  const { project, w } = await started();
  const before = readTree(project.stage, noLock);
  const edit = await editAndSettle(w, () => saveConfig(project, { ...BASE, env: { A: "2" } }), "the agent.env edit");
  assert.is(edit.runs.length, 1, "exactly one run");
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => [t.task, t.reasons]),
    [["smolfile.toml", ["input `agent.env.A` changed"]]],
  );
  assert.equal(touched(before, readTree(project.stage, noLock)), ["smolfile.toml", "state.json", "state.stamp"], "only smolfile.toml (and the state and its stamp) were written");
  assert.match(readFileSync(join(project.stage, "smolfile.toml"), "utf8"), /"A=2"/);
  await stop(w);
});

test("an egress.allow edit runs once and re-renders only pipelock.yaml", async () => {
  const { project, w } = await started();
  const before = readTree(project.stage, noLock);
  const edit = await editAndSettle(w, () => saveConfig(project, { ...BASE, allow: ["b.example.com"] }), "the egress.allow edit");
  assert.is(edit.runs.length, 1, "exactly one run");
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => [t.task, t.reasons]),
    [["pipelock.yaml", ["input `egress.allow` changed"]]],
  );
  assert.equal(touched(before, readTree(project.stage, noLock)), ["pipelock.yaml", "state.json", "state.stamp"]);
  assert.ok(allowlist(project).includes("b.example.com"));
  assert.not.ok(allowlist(project).includes("a.example.com"));
  await stop(w);
});

test("a touch and a save without edits are ignored: no run until a real edit", async () => {
  const { project, w } = await started();
  const stage = readTree(project.stage, noLock);
  const from = w.mark();
  const later = new Date(Date.now() + 60_000);
  utimesSync(project.config, later, later);
  const touch = await w.waitFor((l) => l.event === "ignored", "the touch to be ignored", { from });
  assert.is(touch.line.file, project.config);
  assert.equal(statesIn(w.lines, from), [], "no state change for a touch");
  // An in-place save truncates first: the watcher may start debouncing, but
  // when the burst settles the content is what the last run read: no run.
  const saved = w.mark();
  writeFileSync(project.config, readFileSync(project.config));
  await waitIgnored(w, project.config, saved, "the same-content save");
  assert.not.ok(statesIn(w.lines, from).includes("running"), "no run for same-content events");
  assert.equal(readTree(project.stage, noLock), stage, "nothing in the stage was written");
  // The next real edit is exactly one run: nothing was pending behind it.
  const edit = await editAndSettle(w, () => saveConfig(project, { ...BASE, allow: ["c.example.com"] }), "a real edit");
  assert.is(edit.runs.length, 1);
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => t.task),
    ["pipelock.yaml"],
  );
  await stop(w);
});

test("a burst of 20 saves: runs never overlap and the files match the last save", async () => {
  const { project, w } = await started();
  const from = w.mark();
  for (let i = 0; i < 20; i++) writeInPlace(project, { ...BASE, allow: [`host-${i}.example.com`] });
  const index = await settled(w, from, [project.config], "the last save");
  // runsOf throws if a run starts before the previous one has ended, or a task reports twice in one run.
  const runs = runsOf(w.lines, from, index + 1);
  assert.ok(runs.length >= 1 && runs.length <= 20, `${runs.length} runs`);
  // A run may catch a save half-written (truncated, not yet written): a
  // config error; the last run, though, builds the last save.
  for (const run of runs) assert.ok(["summary", "config-error"].includes(run.lines.at(-1)!.event), "every run ends with its summary or a config error");
  assert.is(runs.at(-1)!.lines.at(-1)!.event, "summary", `the last run builds the last save:\n${w.raw.slice(from).filter((l) => !l.includes('"task"')).join("\n")}`);
  const states = statesIn(w.lines, from, index + 1);
  assert.is(states.filter((s) => s === "running").length, runs.length);
  assert.equal(allowlist(project).filter((h) => h.startsWith("host-")), ["host-19.example.com"], "the last save's allowlist");
  // Byte for byte what a fresh build of the same config renders (but for the stage dir it names: the CA's paths).
  const other = join(project.dir, "other-stage");
  const build = bottle(project, ["build", "--json", "--config", project.config, "--stage", other]);
  assert.is(build.code, 0, build.stderr);
  assert.is(readFileSync(join(project.stage, "pipelock.yaml"), "utf8"), readFileSync(join(other, "pipelock.yaml"), "utf8").replaceAll(other, project.stage));
  // Quiet afterwards: the next edit is one run (nothing was still queued).
  const edit = await editAndSettle(w, () => saveConfig(project, { ...BASE, allow: ["after.example.com"] }), "an edit after the burst");
  assert.is(edit.runs.length, 1);
  await stop(w);
});

test("edits while a run is going queue exactly one more run, which builds the last of them", async () => {
  const { project, w } = await started(BASE, makeProject(BASE, { BOTTLE_LOCK_TIMEOUT_MS: "600000" }));
  // Hold the stage lock (as a `bottle build` elsewhere would) so the run surely waits while the edits land.
  const lock = join(project.stage, ".lock");
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), command: "bottle build", since: Date.now() }));
  const from = w.mark();
  saveConfig(project, { ...BASE, allow: ["q0.example.com"] });
  await w.waitFor((l) => l.event === "waiting", "the run to wait for the lock", { from });
  saveConfig(project, { ...BASE, allow: ["q1.example.com"] });
  await w.waitFor(isState("queued"), "the next edit to be queued", { from });
  for (let i = 2; i <= 5; i++) saveConfig(project, { ...BASE, allow: [`q${i}.example.com`] });
  rmSync(lock);
  const index = await settled(w, from, [project.config], "the last edit");
  assert.equal(statesIn(w.lines, from, index + 1), ["debouncing", "running", "queued", "debouncing", "running", "idle"]);
  const runs = runsOf(w.lines, from, index + 1);
  assert.is(runs.length, 2, "one run, then exactly one queued run");
  assert.equal(allowlist(project).filter((h) => h.startsWith("q")), ["q5.example.com"], "the queued run read the latest content");
  const after = await editAndSettle(w, () => saveConfig(project, { ...BASE, allow: ["later.example.com"] }), "a later edit");
  assert.is(after.runs.length, 1, "nothing else was pending");
  await stop(w);
});

test("an editor's rename dance: same content is ignored, new content is one run, and the watch survives", async () => {
  const { project, w } = await started();
  const from = w.mark();
  renameOver(project, BASE);
  await w.waitFor((l) => l.event === "ignored" && l.file === project.config, "the same-content rename to be ignored", { from });
  assert.equal(statesIn(w.lines, from), []);
  const first = await editAndSettle(w, () => renameOver(project, { ...BASE, allow: ["r1.example.com"] }), "a rename with new content");
  assert.is(first.runs.length, 1);
  assert.equal(
    meaningfulTasks(first.runs[0]!.lines).map((t) => t.task),
    ["pipelock.yaml"],
  );
  assert.ok(allowlist(project).includes("r1.example.com"));
  // The file now is a different inode: the watcher must still see both kinds of save.
  const second = await editAndSettle(w, () => renameOver(project, { ...BASE, allow: ["r2.example.com"] }), "a second rename");
  assert.is(second.runs.length, 1);
  const third = await editAndSettle(w, () => writeInPlace(project, { ...BASE, allow: ["r3.example.com"] }), "an in-place save after renames");
  assert.ok(third.runs.length >= 1, "an in-place save may be caught half-written first");
  assert.ok(allowlist(project).includes("r3.example.com"));
  await stop(w);
});

test("saves right after an ignored event are not lost (a touch, then at once a rename, then at once an edit)", async () => {
  const { project, w } = await started();
  const from = w.mark();
  const later = new Date(Date.now() + 60_000);
  utimesSync(project.config, later, later);
  await w.waitFor((l) => l.event === "ignored", "the touch to be ignored", { from });
  // No pause: these land while the watcher is still reacting to the touch.
  renameOver(project, BASE);
  writeInPlace(project, { ...BASE, allow: ["quick.example.com"] });
  const index = await settled(w, from, [project.config], "the quick edit");
  assert.ok(runsOf(w.lines, from, index + 1).length >= 1);
  assert.ok(allowlist(project).includes("quick.example.com"));
  const after = await editAndSettle(w, () => saveConfig(project, { ...BASE, allow: ["later.example.com"] }), "a later edit");
  assert.is(after.runs.length, 1);
  await stop(w);
});

test("a file the config imports is watched and re-read afresh on every edit", async () => {
  const project = makeProject(BASE);
  writeFileSync(join(project.dir, "hosts.ts"), 'export const hosts = ["i1.example.com"];\n');
  saveConfig(project, configSource({ ...BASE, allow: [] }).replace('egress: { allow: [] }', "egress: { allow: hosts }").replace(/^/, 'import { hosts } from "./hosts.ts";\n'));
  const { w } = await started(BASE, project);
  assert.ok(allowlist(project).includes("i1.example.com"));
  for (const host of ["i2.example.com", "i3.example.com"]) {
    const hosts = join(project.dir, "hosts.ts");
    const edit = await editAndSettle(w, () => atomicWrite(hosts, `export const hosts = [${JSON.stringify(host)}];\n`), `the edit to hosts.ts (${host})`, [hosts]);
    assert.is(edit.runs.length, 1);
    assert.equal(
      meaningfulTasks(edit.runs[0]!.lines).map((t) => t.task),
      ["pipelock.yaml"],
    );
    assert.equal(allowlist(project).filter((h) => h.startsWith("i")), [host], "the imported module was evaluated afresh");
  }
  await stop(w);
});

test("a file a task reads (guest.gvforwarder, in its own directory) is watched: an edit re-copies only guest/", async () => {
  const project = makeProject(BASE);
  mkdirSync(join(project.dir, "bin"));
  const forwarder = join(project.dir, "bin", "gvforwarder");
  writeFileSync(forwarder, "#!/bin/sh\necho v1\n", { mode: 0o755 });
  saveConfig(project, { ...BASE, extra: 'guest: { gvforwarder: "./bin/gvforwarder" },' });
  const { w } = await started(BASE, project);
  const copy = join(project.stage, "guest", "gvforwarder");
  assert.match(readFileSync(copy, "utf8"), /v1/);
  const edit = await editAndSettle(w, () => atomicWrite(forwarder, "#!/bin/sh\necho v2\n", 0o755), "the edit to the gvforwarder binary", [forwarder]);
  assert.is(edit.runs.length, 1);
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => t.task),
    ["guest"],
  );
  assert.match(readFileSync(copy, "utf8"), /v2/);
  // Rewritten in place: seen too (a run may copy it half-written first; the last copies all of it).
  const inPlace = await editAndSettle(w, () => writeFileSync(forwarder, "#!/bin/sh\necho v3\n"), "the gvforwarder rewritten in place", [forwarder]);
  assert.ok(inPlace.runs.length >= 1);
  assert.match(readFileSync(copy, "utf8"), /v3/);
  await stop(w);
});

test("a file a task reads in a directory that does not exist yet: creating both is seen, and so is removing them", async () => {
  const project = makeProject(BASE);
  saveConfig(project, { ...BASE, extra: 'guest: { gvforwarder: "./tools/bin/gvforwarder" },' });
  const { w } = await started(BASE, project);
  const copy = join(project.stage, "guest", "gvforwarder");
  assert.not.ok(existsSync(copy));
  const created = await editAndSettle(
    w,
    () => {
      mkdirSync(join(project.dir, "tools", "bin"), { recursive: true });
      writeFileSync(join(project.dir, "tools", "bin", "gvforwarder"), "#!/bin/sh\necho here\n", { mode: 0o755 });
    },
    "creating tools/bin/gvforwarder",
    [join(project.dir, "tools", "bin", "gvforwarder")],
  );
  assert.ok(created.runs.length >= 1);
  assert.equal(
    meaningfulTasks(created.runs.at(-1)!.lines)
      .map((t) => t.task)
      .sort(),
    ["guest", "preflight"],
    "the copy, and preflight now finds the file",
  );
  assert.match(readFileSync(copy, "utf8"), /here/);
  const removed = await editAndSettle(w, () => rmSync(join(project.dir, "tools"), { recursive: true }), "removing tools/", [join(project.dir, "tools", "bin", "gvforwarder")]);
  assert.is(removed.runs.length, 1);
  assert.not.ok(existsSync(copy), "the copy goes with it");
  const again = await editAndSettle(
    w,
    () => {
      mkdirSync(join(project.dir, "tools", "bin"), { recursive: true });
      writeFileSync(join(project.dir, "tools", "bin", "gvforwarder"), "#!/bin/sh\necho again\n", { mode: 0o755 });
    },
    "creating it again",
    [join(project.dir, "tools", "bin", "gvforwarder")],
  );
  assert.ok(again.runs.length >= 1);
  assert.match(readFileSync(copy, "utf8"), /again/);
  await stop(w);
});

test("a config that is a symlink: edits to the file it points to are seen", async () => {
  const project = makeProject(BASE);
  mkdirSync(join(project.dir, "shared"));
  const real = join(project.dir, "shared", "real.config.ts");
  renameSync(project.config, real);
  symlinkSync(real, project.config);
  const { w } = await started(BASE, project);
  const edit = await editAndSettle(w, () => atomicWrite(real, configSource({ ...BASE, allow: ["linked.example.com"] })), "an edit to the symlink's target");
  assert.is(edit.runs.length, 1);
  assert.ok(allowlist(project).includes("linked.example.com"));
  await stop(w);
});

test("the stage's own outputs are not watched: a hand edit to smolfile.toml runs nothing; the next build catches it", async () => {
  const { project, w } = await started();
  const smolfile = join(project.stage, "smolfile.toml");
  const rendered = readFileSync(smolfile, "utf8");
  const from = w.mark();
  writeFileSync(smolfile, `${rendered}# edited by hand\n`);
  writeFileSync(join(project.stage, "state.json"), readFileSync(join(project.stage, "state.json")));
  // A same-content event on the config, after the hand edits: once it is
  // reported, every earlier file event has been seen too.
  utimesSync(project.config, new Date(), new Date(Date.now() + 60_000));
  await w.waitFor((l) => l.event === "ignored", "the config event after the hand edit", { from });
  assert.equal(statesIn(w.lines, from), [], "the hand edit started no run");
  assert.match(readFileSync(smolfile, "utf8"), /# edited by hand/);
  const build = bottle(project, ["build", "--json", "--config", project.config]);
  assert.is(build.code, 0, build.stderr);
  const ran = build.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; task?: string; status?: string; volatile?: boolean })
    .filter((e) => e.event === "task" && e.status === "ran" && !e.volatile)
    .map((e) => e.task);
  assert.equal(ran, ["smolfile.toml"], "the build re-renders the hand-edited output");
  assert.is(readFileSync(smolfile, "utf8"), rendered);
  // The build's own writes to the stage start nothing either.
  const quiet = w.mark();
  utimesSync(project.config, new Date(), new Date(Date.now() + 120_000));
  await w.waitFor((l) => l.event === "ignored", "the config event after the build", { from: quiet });
  assert.equal(statesIn(w.lines, from), []);
  await stop(w);
});

test.run();
