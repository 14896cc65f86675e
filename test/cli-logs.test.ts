// Proves `bottle logs` on a bottle run with the contract fakes: every line of
// <stage>/logs/*.log with its source's prefix; --source picks one, and an
// unknown one lists those there are (exit 2); --follow prints what is
// there, then each new line as it is written, a log that appears meanwhile
// too, and ends by itself when the bottle stops (or on Ctrl-C, exit 0);
// without a running bottle it says there is nothing to follow. A symlink
// in the logs dir is not a log: what it points to is never printed.
import { readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir } from "./helpers/fakes.js";
import { connectThrough, pipelockPort, running } from "./helpers/live-bottle.js";
import { bottle, killLeftovers, makeProject, scratchDir, spawnBottle, type Project } from "./helpers/watch.js";

test.after.each(killLeftovers);

const HANG = { FAKE_HANG: "smolvm:exec" };

function liveProject(name: string): { project: Project; fakes: string } {
  const fakes = scratchDir("blg-fakes-");
  const project = makeProject({ name, env: {}, allow: ["a.example.com"] }, { PATH: `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
  return { project, fakes };
}

const logsDir = (project: Project) => join(project.stage, "logs");
const logLines = (project: Project, source: string) => readFileSync(join(logsDir(project), `${source}.log`), "utf8").split("\n").filter(Boolean);

test("every line of every log with its source's prefix; --source picks one; an unknown source lists the others", async () => {
  const { project, fakes } = liveProject("blg");
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  const sources = readdirSync(logsDir(project)).map((f) => f.replace(/\.log$/, "")).sort();
  assert.ok(sources.includes("pipelock") && sources.length >= 2, sources.join(", "));

  const all = bottle(project, ["logs", "blg"]);
  assert.is(all.code, 0, all.stderr);
  const expected = sources.flatMap((source) => logLines(project, source).map((line) => `[${source}] ${line}`));
  assert.equal(all.stdout.trimEnd().split("\n"), expected);

  const one = bottle(project, ["logs", "--source", "pipelock"]);
  assert.is(one.code, 0, one.stderr);
  assert.equal(one.stdout.trimEnd().split("\n"), logLines(project, "pipelock").map((line) => `[pipelock] ${line}`), "without NAME: the bottle of ./bottle.config.ts");

  const unknown = bottle(project, ["logs", "blg", "--source", "nope"]);
  assert.is(unknown.code, 2);
  assert.is(unknown.stderr, `bottle: blg has no log \`nope\`; its logs: ${sources.join(", ")}\n`);
  assert.is(unknown.stdout, "");

  assert.is(bottle(project, ["stop", "blg"]).code, 0);
  await launch.ended();
});

test("--follow: what is there, then new lines as pipelock writes them, a log that appears at teardown too; it ends when the bottle stops", async () => {
  const { project, fakes } = liveProject("blf");
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  const follow = spawnBottle(project, ["logs", "blf", "--follow"]);
  const startup = logLines(project, "pipelock").find((line) => line.includes('"event":"startup"'))!;
  await follow.waitForRaw((line) => line === `[pipelock] ${startup}`, "pipelock's startup line, already in its log");

  assert.is((await connectThrough(pipelockPort(project), "b.example.com")).status, 403);
  const refused = await follow.waitForRaw((line) => line.startsWith("[pipelock] ") && line.includes('"event":"blocked"') && line.includes("b.example.com"), "the refusal, as pipelock writes it");
  assert.match(refused, '"reason":"domain not in allowlist: b.example.com"');

  assert.is(bottle(project, ["stop", "blf"]).code, 0);
  assert.equal(await follow.ended(), { code: 0, signal: null }, follow.stderr());
  assert.is(follow.stderr(), "blf stopped\n");
  // gvproxy's log is copied into the stage at teardown: it appeared while following.
  const gvproxy = logLines(project, "gvproxy");
  assert.ok(gvproxy.length > 0, "the fake gvproxy logged something");
  assert.equal(
    follow.raw.filter((line) => line.startsWith("[gvproxy] ")),
    gvproxy.map((line) => `[gvproxy] ${line}`),
  );
  assert.equal(await launch.ended(), { code: 0, signal: null });

  const after = spawnBottle(project, ["logs", "blf", "--follow", "--source", "pipelock"]);
  assert.equal(await after.ended(), { code: 0, signal: null });
  assert.is(after.stderr(), "blf is not running: nothing more to follow\n");
  assert.ok(after.raw.includes(`[pipelock] ${startup}`), "what the last session left is printed");
});

test("--follow ends on Ctrl-C with exit 0, the bottle still running", async () => {
  const { project, fakes } = liveProject("blc");
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  const follow = spawnBottle(project, ["logs", "blc", "-f", "--source", "pipelock"]);
  await follow.waitForRaw((line) => line.startsWith("[pipelock] "), "the first line");
  assert.equal(await follow.interrupt("SIGINT"), { code: 0, signal: null });
  assert.is(launch.child.exitCode, null, "the bottle runs on");
  assert.is(bottle(project, ["stop", "blc"]).code, 0);
  await launch.ended();
});

test("a symlink in the logs dir is no log: not listed, not printed, not followed", async () => {
  const { project, fakes } = liveProject("bls");
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: HANG });
  await running(launch, fakes);
  assert.is(bottle(project, ["stop", "bls"]).code, 0);
  await launch.ended();
  const secret = join(scratchDir("blg-secret-"), "private");
  writeFileSync(secret, "private key material\n");
  symlinkSync(secret, join(logsDir(project), "evil.log"));
  unlinkSync(join(logsDir(project), "pipelock.log"));
  symlinkSync(secret, join(logsDir(project), "pipelock.log"));

  const all = bottle(project, ["logs", "bls"]);
  assert.is(all.code, 0, all.stderr);
  assert.not.match(all.stdout, "private key material");
  assert.not.match(all.stdout, /^\[(evil|pipelock)\]/m);
  for (const source of ["evil", "pipelock"]) {
    const one = bottle(project, ["logs", "bls", "--source", source]);
    assert.is(one.code, 2, one.stderr);
    assert.not.match(one.stdout + one.stderr, "private key material");
    assert.not.match(one.stderr, /its logs: .*\b(evil|pipelock)\b/);
  }
});

test("--help is true: the options it has, and the usage line", () => {
  const { project } = liveProject("blh");
  const help = bottle(project, ["logs", "--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^usage: bottle logs \[NAME\] \[options\]/);
  for (const option of ["-f, --follow", "--source SOURCE", "--config PATH", "--stage DIR"]) assert.match(help.stdout, option);
  const bad = bottle(project, ["logs", "--tail", "3"]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, "unknown option --tail");
});

test.run();
