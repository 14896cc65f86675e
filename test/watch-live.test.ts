// Proves watch mode against a running bottle (contract fakes for smolvm,
// gvproxy and pipelock; the agent hangs in `smolvm machine exec`): an
// egress.allow edit reaches pipelock as exactly one reload and restarts
// nothing, so the proxy answers for the new host at once; an agent.env edit
// is reported as needing `bottle resume`, naming smolfile.toml, and is not
// half-applied; so is a gitGate edit, naming sidecars.json. Both for `bottle watch` beside a `bottle launch` and for
// `bottle launch --watch`; `bottle stop` then leaves nothing running.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir, readPipelockEvents, readSmolvmCalls, waitForPipelockEvent } from "./helpers/fakes.js";
import { connectThrough, liveLines, pipelockPort, running } from "./helpers/live-bottle.js";
import {
  bottle,
  editAndSettle,
  isState,
  killLeftovers,
  makeProject,
  meaningfulTasks,
  saveConfig,
  scratchDir,
  spawnBottle,
  startWatch,
  statesIn,
  type Line,
  type Project,
  type ProjectConfig,
  type WatchProcess,
} from "./helpers/watch.js";

test.after.each(killLeftovers);

const HANG = { FAKE_HANG: "smolvm:exec" };

/** A project whose bottle processes find the fakes first on PATH and record into their own FAKES_STATE. */
function liveProject(config: ProjectConfig): { project: Project; fakes: string } {
  const fakes = scratchDir("bw-fakes-");
  const project = makeProject(config, { PATH: `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
  return { project, fakes };
}

/** smolvm calls from index `from` on that would stop, start, create or delete the machine. */
function machineRestarts(fakes: string, from: number): string[] {
  return readSmolvmCalls(fakes)
    .slice(from)
    .map((call) => call.argv.join(" "))
    .filter((argv) => /^machine (start|stop|create|delete|restart)\b/.test(argv));
}

/**
 * Processes (other than this one) whose environment carries this test's
 * FAKES_STATE, or, for pipelock (which bottle gives HOME in the run dir and
 * nothing else), this project's run dir.
 */
function processesWith(fakes: string, project: Project): string[] {
  const needles = [`FAKES_STATE=${fakes}\0`, `HOME=${project.runDir}/`];
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1");
      if (needles.some((needle) => `${environ}\0`.includes(needle))) found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0/g, " ")}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The egress edit, applied live: one run, only pipelock.yaml, one `live` line, one reload, nothing restarted. */
async function egressEditAppliedLive(w: WatchProcess, project: Project, fakes: string, config: ProjectConfig): Promise<void> {
  const port = pipelockPort(project);
  assert.equal(await connectThrough(port, "b.example.com"), { status: 403, body: "blocked: domain not in allowlist: b.example.com" }, "not allowed before the edit");
  const calls = readSmolvmCalls(fakes).length;
  const started = readPipelockEvents(fakes).filter((e) => e.event === "started");
  assert.is(started.length, 1);
  const edit = await editAndSettle(w, () => saveConfig(project, { ...config, allow: ["b.example.com"] }), "the egress.allow edit");
  assert.is(edit.runs.length, 1);
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => t.task),
    ["pipelock.yaml"],
  );
  const live = liveLines(edit.lines);
  assert.is(live.length, 1, `live lines: ${JSON.stringify(live)}`);
  assert.match(live[0]!, new RegExp(`^applied live: reloaded pipelock \\(pid ${started[0]!.pid}\\)`), live[0]);
  await waitForPipelockEvent(fakes, (e) => e.event === "reload", 10_000);
  assert.equal(
    readPipelockEvents(fakes).map((e) => [e.event, e.pid]),
    [
      ["started", started[0]!.pid],
      ["reload", started[0]!.pid],
    ],
    "the same pipelock, reloaded once",
  );
  assert.equal(await connectThrough(port, "b.example.com"), { status: 200, body: "allowed b.example.com" }, "the new host is allowed at once");
  assert.equal(await connectThrough(port, "a.example.com"), { status: 403, body: "blocked: domain not in allowlist: a.example.com" }, "the removed host is blocked");
  assert.equal(machineRestarts(fakes, calls), [], "the machine was not restarted");
}

/**
 * An edit that needs the VM or a sidecar restarted: one task re-renders, one
 * line says `bottle resume` is needed, and the running bottle is left as it is
 * (no restart, no pipelock reload beyond `reloadsBefore`).
 */
async function editNeedsResume(
  { w, launch, fakes, reloadsBefore }: { w: WatchProcess; launch: WatchProcess; fakes: string; reloadsBefore: number },
  edit: { what: string; save: () => void; task: string; line: RegExp },
): Promise<void> {
  const calls = readSmolvmCalls(fakes).length;
  const settled = await editAndSettle(w, edit.save, edit.what);
  assert.equal(
    meaningfulTasks(settled.runs[0]!.lines).map((t) => t.task),
    [edit.task],
  );
  const live = liveLines(settled.lines);
  assert.is(live.length, 1, `live lines: ${JSON.stringify(live)}`);
  assert.match(live[0]!, edit.line);
  assert.equal(machineRestarts(fakes, calls), [], "nothing restarted: the change waits for `bottle resume`");
  assert.is(readPipelockEvents(fakes).filter((e) => e.event === "reload").length, reloadsBefore, "no reload for a change pipelock does not read");
  assert.is(launch.child.exitCode, null, "the bottle is still running");
}

/** `bottle stop`, then the launch ends with 0, then the watcher is interrupted and exits 0. */
async function stopBottleThenWatch(project: Project, launch: WatchProcess, w: WatchProcess): Promise<void> {
  const stop = bottle(project, ["stop", "--config", project.config]);
  assert.is(stop.code, 0, stop.stderr);
  assert.equal(await launch.ended(), { code: 0, signal: null }, launch.stderr());
  assert.equal(await w.interrupt(), { code: 0, signal: null });
}

test("bottle watch beside a running bottle: egress.allow is applied live (one reload), agent.env needs `bottle resume`", async () => {
  const config: ProjectConfig = { name: "wl", env: { A: "1" }, allow: ["a.example.com"] };
  const { project, fakes } = liveProject(config);
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  assert.ok(processesWith(fakes, project).length >= 3, `the bottle's processes are found by their FAKES_STATE: ${processesWith(fakes, project).join("; ")}`);

  const w = startWatch(project);
  const first = await w.waitFor(isState("idle"), "the watcher's first build");
  assert.equal(meaningfulTasks(w.lines.slice(0, first.index)), [], "everything the launch built is fresh");
  assert.equal(liveLines(w.lines), []);

  await egressEditAppliedLive(w, project, fakes, config);

  await editNeedsResume({ w, launch, fakes, reloadsBefore: 1 }, {
    what: "the agent.env edit",
    save: () => saveConfig(project, { ...config, allow: ["b.example.com"], env: { A: "2" } }),
    task: "smolfile.toml",
    line: /^needs `bottle resume`: `smolfile\.toml` changed \(input `agent\.env\.A` changed\)/,
  });

  await stopBottleThenWatch(project, launch, w);
  assert.equal(
    readPipelockEvents(fakes).map((e) => e.event),
    ["started", "reload", "stopped"],
    "exactly one reload over the whole session",
  );
  assert.equal(processesWith(fakes, project), [], "nothing left running");
  assert.not.ok(existsSync(join(project.stage, ".lock")));
});

test("bottle watch beside a running bottle: a gitGate edit needs `bottle resume`, naming sidecars.json, and nothing is restarted", async () => {
  const gate = (name: string) => `gitGate: { command: ["fake-sidecar", "--port", "{port}", "--name", ${JSON.stringify(name)}], ready: { timeoutMs: 15000 } },`;
  const config: ProjectConfig = { name: "wg", env: {}, allow: ["a.example.com"], extra: gate("git-gate") };
  const { project, fakes } = liveProject(config);
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the watcher's first build");
  assert.equal(liveLines(w.lines), []);

  await editNeedsResume({ w, launch, fakes, reloadsBefore: 0 }, {
    what: "the gitGate edit",
    save: () => saveConfig(project, { ...config, extra: gate("git-gate-2") }),
    task: "sidecars.json",
    line: /^needs `bottle resume`: `sidecars\.json` changed \(input `gitGate\.command/,
  });
  assert.match(readFileSync(join(project.stage, "sidecars.json"), "utf8"), "git-gate-2");

  await stopBottleThenWatch(project, launch, w);
  assert.equal(processesWith(fakes, project), [], "nothing left running");
});

test("bottle watch on another stage than the running bottle's: nothing is reloaded, and it says so", async () => {
  const config: ProjectConfig = { name: "wls", env: { A: "1" }, allow: ["a.example.com"] };
  const { project, fakes } = liveProject(config);
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  const other = join(project.dir, "other-stage");
  const w = startWatch(project, { args: ["--stage", other] });
  await w.waitFor(isState("idle"), "the watcher's first build");
  const edit = await editAndSettle(w, () => saveConfig(project, { ...config, allow: ["b.example.com"] }), "the egress.allow edit");
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => t.task),
    ["pipelock.yaml"],
  );
  assert.equal(liveLines(edit.lines), [`wls is running from ${project.stage}, not ${other}: nothing applied live`]);
  assert.equal(await connectThrough(pipelockPort(project), "b.example.com"), { status: 403, body: "blocked: domain not in allowlist: b.example.com" }, "the running bottle's egress is unchanged");
  await stopBottleThenWatch(project, launch, w);
  assert.equal(
    readPipelockEvents(fakes).map((e) => e.event),
    ["started", "stopped"],
    "pipelock was never asked to reload",
  );
  assert.equal(processesWith(fakes, project), [], "nothing left running");
});

test("bottle launch --watch: the watcher runs beside the agent, applies an egress edit live, and `bottle stop` ends both", async () => {
  const config: ProjectConfig = { name: "wlw", env: { A: "1" }, allow: ["a.example.com"] };
  const { project, fakes } = liveProject(config);
  const launch = spawnBottle(project, ["launch", "--watch", "--json", "--config", project.config], { env: HANG, source: "stderr", prefix: "watch: " });
  await running(launch, fakes);
  await launch.waitFor(isState("idle"), "the watcher beside the agent to finish its first build");
  assert.equal(liveLines(launch.lines), []);

  await egressEditAppliedLive(launch, project, fakes, config);

  const stop = bottle(project, ["stop", "--config", project.config]);
  assert.is(stop.code, 0, stop.stderr);
  assert.equal(await launch.ended(), { code: 0, signal: null }, launch.stderr());
  assert.is(statesIn(launch.lines).at(-1), "stopped", "the watcher stopped with the bottle");
  assert.ok(
    launch.raw.filter((l) => l.startsWith("{") || l.startsWith("watch: ")).every((l) => l.startsWith("watch: ")),
    "every watch line on stderr is prefixed `watch: `",
  );
  assert.equal(
    readPipelockEvents(fakes).map((e) => e.event),
    ["started", "reload", "stopped"],
  );
  assert.equal(processesWith(fakes, project), [], "nothing left running");
  assert.not.ok(existsSync(join(project.stage, ".lock")));
});

test("bottle launch --watch without --json: every line the watcher prints, a config error's too, is prefixed `watch: `", async () => {
  const config: ProjectConfig = { name: "wlt", env: { A: "1" }, allow: ["a.example.com"] };
  const { project, fakes } = liveProject(config);
  const launch = spawnBottle(project, ["launch", "--watch", "--config", project.config], { env: HANG, source: "stderr" });
  await running(launch, fakes);
  await launch.waitForRaw((l) => /^watch: \[\d\d:\d\d:\d\d\] nothing changed$/.test(l), "the watcher's first build");
  const from = launch.markRaw();
  saveConfig(project, { ...config, extra: "bogus: 1," });
  await launch.waitForRaw((l) => l.includes("(the files from the last good build are untouched"), "the config error", { from });
  const error = launch.raw.slice(from);
  assert.ok(
    error.some((l) => /^watch: {3}- bogus: unknown key/.test(l)),
    `the problem line is prefixed:\n${error.join("\n")}`,
  );
  assert.ok(
    error.every((l) => l.startsWith("watch: ")),
    `nothing unprefixed:\n${error.join("\n")}`,
  );
  // By name: the config on disk is broken.
  const stop = bottle(project, ["stop", "wlt"]);
  assert.is(stop.code, 0, stop.stderr);
  assert.equal(await launch.ended(), { code: 0, signal: null }, launch.stderr());
  assert.equal(processesWith(fakes, project), [], "nothing left running");
});

test.run();
