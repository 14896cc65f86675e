// An honest launch failure (issue 17, point 7): a missing tool fails at
// preflight before anything starts, its error printed once; "`bottle
// resume` starts it again" only when something had started; a bottle that
// never started is not registered (one that had is kept); and `bottle rm`
// removes the stage of a bottle that was only ever built.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPipelockEvents, readSmolvmCalls } from "./helpers/fakes.js";
import { assertNoLeftovers, binDirWith, describe, freshFakes, lsJson, makeProject, runBottle } from "./helpers/lifecycle.js";

const project = makeProject("lc-honest");
const NO_SMOLVM = ["node", "dirname", "readlink", "gvproxy", "pipelock", "bwrap"];
const NEEDS = "bottle launch needs this program";
const RESUME_HINT = /`bottle resume [a-z0-9-]+` starts it again/;

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

test("no smolvm: launch fails at preflight, the error once, nothing started, nothing registered, no resume hint", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { path: binDirWith(NO_SMOLVM) });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stdout, /FAILED\s+preflight: bottle launch needs this program, not found on PATH[^\n]*:\n\s+- smolvm\s+install: [^\n]*KVM/, describe(run));
  assert.is(count(run.stdout + run.stderr, NEEDS), 1, describe(run));
  assert.match(run.stderr, "launch failed at `preflight` (its error is above).", describe(run));
  assert.match(run.stderr, `Nothing was started. ${project.name} is not registered; \`bottle launch\` again once the error is fixed.`, describe(run));
  assert.not.match(run.stderr, RESUME_HINT, describe(run));
  assert.match(run.stdout, /blocked\s+sidecars \(needs `preflight`/, describe(run));
  assert.equal(readSmolvmCalls(project.fakes), []);
  assert.equal(readPipelockEvents(project.fakes), []);
  assert.equal(await lsJson(project), []);
  assertNoLeftovers(project, "absent");
});

test("with --json the closing line carries the error itself (no human view printed it)", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch", "--json"], { path: binDirWith(NO_SMOLVM) });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, /launch failed at `preflight`: bottle launch needs this program[^]*- smolvm/, describe(run));
  assert.equal(await lsJson(project), []);
});

test("a failure after something started keeps the bottle registered and says how to resume it", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { env: { FAKE_FAIL: "gvproxy" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, "launch failed at `network` (its error is above).", describe(run));
  assert.match(run.stdout, /FAILED\s+network: gvproxy exited/, describe(run));
  assert.match(run.stderr, /cleaned up, in reverse order: .*stopped pipelock/, describe(run));
  assert.match(run.stderr, RESUME_HINT, describe(run));
  assert.equal((await lsJson(project)).map((row) => row.name), [project.name]);

  // A bottle that had started once stays registered when a later resume starts nothing.
  const resume = await runBottle(project, ["resume"], { path: binDirWith(NO_SMOLVM) });
  assert.is(resume.code, 1, describe(resume));
  assert.match(resume.stderr, /^Nothing was started\.$/m, describe(resume));
  assert.not.match(resume.stderr, RESUME_HINT, describe(resume));
  assert.equal((await lsJson(project)).map((row) => row.name), [project.name]);
  const rm = await runBottle(project, ["rm", "--yes", project.name]);
  assert.is(rm.code, 0, describe(rm));
});

test("bottle rm NAME removes the stage of a bottle only ever built (never registered)", async () => {
  freshFakes(project);
  const build = await runBottle(project, ["build"]);
  assert.is(build.code, 0, describe(build));
  assert.ok(existsSync(project.stageDir), "the build made the stage");
  assert.equal(await lsJson(project), []);
  const rm = await runBottle(project, ["rm", "--yes", project.name]);
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout, `removed ${project.stageDir}`, describe(rm));
  assert.not.ok(existsSync(project.stageDir), "the stage is gone");
  const again = await runBottle(project, ["rm", "--yes", project.name]);
  assert.is(again.code, 2, describe(again));
  assert.match(again.stderr, `no bottle named \`${project.name}\``, describe(again));
});

test("bottle rm NAME refuses a directory at the stage's place that bottle did not make, and deletes nothing", async () => {
  freshFakes(project);
  mkdirSync(project.stageDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(project.stageDir, "notes.txt"), "mine\n");
  const rm = await runBottle(project, ["rm", "--yes", project.name]);
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, `nothing was deleted for \`${project.name}\``, describe(rm));
  assert.match(rm.stderr, "It is not registered (a bottle only built)", describe(rm));
  assert.not.match(rm.stderr, "registry entry is wrong", describe(rm));
  assert.ok(existsSync(join(project.stageDir, "notes.txt")), "the file is kept");
  rmSync(project.stageDir, { recursive: true });
});

test.run();
