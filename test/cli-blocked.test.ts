// Proves `bottle blocked` and the summary a launch prints at teardown, with
// the contract fakes (the fake pipelock logs its refusals as the real one
// does; blocked-real-pipelock.test.ts covers the real one): while the
// bottle runs, its refusals are in <stage>/blocked.jsonl and `bottle blocked`
// shows them (text and --json, by NAME or from the config's directory);
// `bottle stop` makes the launch print the same summary; afterwards `bottle
// blocked` shows the last session, and the next launch starts it afresh. A
// session that refused nothing prints no summary. A symlink planted at
// blocked.jsonl is never written or read through.
import { existsSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, watch, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { askProxy, fakesBinDir, waitForChange } from "./helpers/fakes.js";
import { connectThrough, pipelockPort, running } from "./helpers/live-bottle.js";
import { bottle, killLeftovers, makeProject, scratchDir, spawnBottle, type Project, type ProjectConfig, type WatchProcess } from "./helpers/watch.js";

test.after.each(killLeftovers);

const HANG = { FAKE_HANG: "smolvm:exec" };

function liveProject(config: ProjectConfig): { project: Project; fakes: string } {
  const fakes = scratchDir("bb-fakes-");
  const project = makeProject(config, { PATH: `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
  return { project, fakes };
}

const blockedFile = (project: Project) => join(project.stage, "blocked.jsonl");

function recordsIn(project: Project): Record<string, unknown>[] {
  return readFileSync(blockedFile(project), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits until blocked.jsonl holds `count` records (the follower writes them as pipelock logs). */
function waitForRecords(project: Project, count: number): Promise<Record<string, unknown>[]> {
  return waitForChange(blockedFile(project), () => (existsSync(blockedFile(project)) && recordsIn(project).length >= count ? recordsIn(project) : undefined), 20_000, `${count} records in ${blockedFile(project)}`);
}

/** Whether the launch got as far as the agent (its hang marker appeared) or exited first; nothing is left waiting either way. */
function startedOrExited(launch: WatchProcess, marker: string): Promise<"running" | "exited"> {
  mkdirSync(dirname(marker), { recursive: true });
  return new Promise((resolve) => {
    const watcher = watch(dirname(marker), () => existsSync(marker) && done("running"));
    const done = (outcome: "running" | "exited"): void => {
      watcher.close();
      resolve(outcome);
    };
    void launch.exit.then(() => done(existsSync(marker) ? "running" : "exited"));
  });
}

/** The summary with its times replaced by T, for exact comparison. */
const untimed = (text: string) => text.replace(/from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d UTC|at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/g, "T");

test("while it runs, at teardown and afterwards: what pipelock refused, per host, with the edit that would allow it", async () => {
  const config: ProjectConfig = { name: "bbl", env: {}, allow: ["a.example.com"] };
  const { project, fakes } = liveProject(config);
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  const port = pipelockPort(project);
  assert.is((await connectThrough(port, "b.example.com")).status, 403);
  assert.is((await connectThrough(port, "b.example.com")).status, 403);
  assert.is((await askProxy(port, "GET http://c.example.com/private/path?token=hunter2 HTTP/1.1\r\nHost: c.example.com\r\n\r\n")).status, 403);
  assert.is((await connectThrough(port, "a.example.com")).status, 200, "an allowed host is no refusal");
  const records = await waitForRecords(project, 3);
  assert.equal(
    records.map((r) => [r.host, r.port, r.method, r.kind]),
    [
      ["b.example.com", 443, "CONNECT", "not-allowlisted"],
      ["b.example.com", 443, "CONNECT", "not-allowlisted"],
      ["c.example.com", 80, "GET", "not-allowlisted"],
    ],
  );
  assert.not.match(readFileSync(blockedFile(project), "utf8"), /private|hunter2/, "no path, no query");

  const expected = (session: string) => [
    `pipelock refused 3 requests to 2 hosts in ${session} of bbl, T:`,
    "  b.example.com  2×  not allowlisted (CONNECT; port 443)",
    "  c.example.com  1×  not allowlisted (GET; port 80)",
    `to allow a host refused as not allowlisted, edit ${project.config} (bottle allows nothing by itself):`,
    '  b.example.com  egress.allow: add "b.example.com"  or run: bottle allow bbl b.example.com',
    '  c.example.com  egress.allow: add "c.example.com"  or run: bottle allow bbl c.example.com',
  ];
  const byName = bottle(project, ["blocked", "bbl"]);
  assert.is(byName.code, 0, byName.stderr);
  assert.equal(untimed(byName.stdout).trimEnd().split("\n"), expected("the running session"));
  const fromConfigDir = bottle(project, ["blocked"]);
  assert.is(fromConfigDir.code, 0, fromConfigDir.stderr);
  assert.is(fromConfigDir.stdout, byName.stdout, "without NAME: the bottle registered for ./bottle.config.ts");

  const json = bottle(project, ["blocked", "bbl", "--json"]);
  assert.is(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { bottle: string; running: boolean; requests: number; hosts: { host: string; count: number; allow?: { edit: string; command: string } }[]; records: unknown[] };
  assert.equal([report.bottle, report.running, report.requests, report.records.length], ["bbl", true, 3, 3]);
  assert.equal(
    report.hosts.map((h) => [h.host, h.count, h.allow?.command]),
    [
      ["b.example.com", 2, "bottle allow bbl b.example.com"],
      ["c.example.com", 1, "bottle allow bbl c.example.com"],
    ],
  );

  const stop = bottle(project, ["stop", "bbl"]);
  assert.is(stop.code, 0, stop.stderr);
  assert.equal(await launch.ended(), { code: 0, signal: null }, launch.stderr());
  const said = untimed(launch.stderr());
  const at = said.indexOf("pipelock refused");
  assert.ok(at >= 0, said);
  assert.equal(said.slice(at).split("\n").slice(0, 6), expected("this session"), "launch prints the summary at teardown");
  assert.ok(said.indexOf("cleaned up, in reverse order") > at, "before the teardown's report");

  const after = bottle(project, ["blocked", "bbl"]);
  assert.equal(untimed(after.stdout).trimEnd().split("\n"), expected("the last session"));

  // The next launch starts afresh: nothing refused yet, and at its teardown nothing is said.
  const again = spawnBottle(project, ["launch", "--config", project.config], { env: { FAKE_HANG: "smolvm:exec" } });
  unlinkSync(join(fakes, "hang", "smolvm-exec"));
  await running(again, fakes);
  assert.equal(recordsIn(project), [], "blocked.jsonl starts empty at each launch");
  assert.is(bottle(project, ["blocked", "bbl"]).stdout, "pipelock refused nothing in the running session of bbl\n");
  assert.is(bottle(project, ["stop", "bbl"]).code, 0);
  assert.equal(await again.ended(), { code: 0, signal: null }, again.stderr());
  assert.not.match(again.stderr(), "pipelock refused", "a session that refused nothing prints no summary");

  const rm = bottle(project, ["rm", "bbl", "--yes"]);
  assert.is(rm.code, 0, rm.stderr);
  assert.not.match(rm.stdout, "kept what bottle did not make", "blocked.jsonl is bottle's: rm deletes it");
  assert.not.ok(existsSync(project.stage));
});

test("`bottle blocked` needs a registered bottle; unknown names and stray arguments are usage errors", () => {
  const { project } = liveProject({ name: "bbn", env: {}, allow: ["a.example.com"] });
  const none = bottle(project, ["blocked"]);
  assert.is(none.code, 2, none.stderr);
  assert.match(none.stderr, "no registered bottle was launched from");
  const unknown = bottle(project, ["blocked", "nope"]);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, "no bottle named `nope`");
  const extra = bottle(project, ["blocked", "a", "b"]);
  assert.is(extra.code, 2);
  const help = bottle(project, ["blocked", "--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^usage: bottle blocked \[NAME\] \[options\]/);
  assert.match(help.stdout, "--json");
});

test("a symlink planted at blocked.jsonl is neither written through by a launch nor read through by `bottle blocked`", async () => {
  const { project, fakes } = liveProject({ name: "bbs", env: {}, allow: ["a.example.com"] });
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  assert.is(bottle(project, ["stop", "bbs"]).code, 0);
  await launch.ended();

  const target = join(scratchDir("bb-target-"), "precious");
  writeFileSync(target, "precious content\n");
  unlinkSync(blockedFile(project));
  symlinkSync(target, blockedFile(project));
  const read = bottle(project, ["blocked", "bbs"]);
  assert.is(read.code, 1, read.stderr);
  assert.match(read.stderr, "is a symlink; bottle does not follow symlinks there");
  assert.not.match(read.stdout + read.stderr, "precious content");

  unlinkSync(join(fakes, "hang", "smolvm-exec"));
  const relaunch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  const outcome = await startedOrExited(relaunch, join(fakes, "hang", "smolvm-exec"));
  if (outcome === "running") {
    bottle(project, ["stop", "bbs"]);
    await relaunch.ended();
    assert.unreachable(`the launch started the agent with a symlink at blocked.jsonl:\n${relaunch.stderr()}`);
  }
  assert.is((await relaunch.exit).code, 1, relaunch.stderr());
  assert.match(relaunch.stderr(), "launch failed at `sidecars` (its error is above).");
  assert.match(relaunch.stdout(), /FAILED\s+sidecars: refusing to write the record of refused requests .*blocked\.jsonl: it is a symlink/);
  assert.is(readFileSync(target, "utf8"), "precious content\n", "the file it pointed at is untouched");
});

test.run();
