// Proves that a failure injected at every launch step rolls back exactly
// what was started, in reverse order, says which step failed and what was
// cleaned, exits 1, and leaves nothing behind; and that a missing binary
// stops the launch before anything starts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPipelockEvents, readSmolvmCalls } from "./helpers/fakes.js";
import { assertNoLeftovers, binDirWith, describe, freshFakes, makeProject, runBottle, smolvmVerbs } from "./helpers/lifecycle.js";

const project = makeProject("lc-fail");
const machine = project.machine;

interface Case {
  fail: string;
  step: string;
  /** What the failure message says about the cause. */
  cause: RegExp;
  /** What was cleaned, in this order (each a pattern of one item of the list). */
  cleaned: RegExp[];
  /** smolvm subcommands, in order. */
  verbs: string[];
}

const STOPPED_JAIL = /stopped gvproxy and its jail \(pid \d+\)/;
const RELAYS = /closed the sidecar relays \(1\)/;
const PIPELOCK = /stopped pipelock \(pid \d+\)/;

const cases: Case[] = [
  { fail: "pipelock", step: "sidecars", cause: /pipelock exited \(exit code 1\)[^]*last lines of .*pipelock\.log/, cleaned: [PIPELOCK], verbs: [] },
  { fail: "gvproxy", step: "network", cause: /gvproxy exited[^]*injected by FAKE_FAIL=gvproxy/, cleaned: [STOPPED_JAIL, RELAYS, PIPELOCK], verbs: [] },
  {
    fail: "smolvm:create",
    step: "machine",
    cause: /smolvm machine create failed/,
    cleaned: [STOPPED_JAIL, RELAYS, PIPELOCK],
    verbs: ["status", "create", "status"],
  },
  {
    fail: "smolvm:start",
    step: "machine",
    cause: /smolvm machine start failed/,
    cleaned: [new RegExp(`deleted machine ${machine}, which this launch had created`), STOPPED_JAIL, RELAYS, PIPELOCK],
    verbs: ["status", "create", "start", "status", "delete"],
  },
];

function cleanedList(stderr: string): string[] {
  const line = /^cleaned up, in reverse order: (.*)$/m.exec(stderr)?.[1];
  return line ? line.split("; ") : [];
}

for (const c of cases) {
  test(`FAKE_FAIL=${c.fail}: launch fails at \`${c.step}\`, says so, undoes what started in reverse order, leaves nothing`, async () => {
    freshFakes(project);
    const run = await runBottle(project, ["launch"], { env: { FAKE_FAIL: c.fail } });
    assert.is(run.code, 1, describe(run));
    // The error once, in the progress view's row; the closing line says where.
    assert.match(run.stderr, `launch failed at \`${c.step}\` (its error is above).`, describe(run));
    assert.match(run.stdout, new RegExp(`FAILED\\s+${c.step}: ${c.cause.source}`), describe(run));
    assert.not.match(run.stderr, c.cause, describe(run));
    const cleaned = cleanedList(run.stderr);
    assert.is(cleaned.length, c.cleaned.length, `cleaned: ${JSON.stringify(cleaned)}\n${describe(run)}`);
    c.cleaned.forEach((pattern, i) => assert.match(cleaned[i]!, pattern, `cleaned[${i}]: ${JSON.stringify(cleaned)}`));
    assert.not.match(run.stderr, "could not undo", describe(run));
    assert.match(run.stderr, `bottle resume ${project.name}`);
    assert.equal(smolvmVerbs(readSmolvmCalls(project.fakes)), c.verbs, describe(run));
    assertNoLeftovers(project, "absent");
  });
}

test("FAKE_FAIL=smolvm:exec: the agent step's exit code 1 passes through and the machine is stopped, not deleted", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { env: { FAKE_FAIL: "smolvm:exec" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, "injected by FAKE_FAIL=smolvm:exec");
  assert.match(run.stderr, "the agent exited with code 1");
  assert.equal(
    cleanedList(run.stderr).map((item) => item.replace(/\d+/g, "N")),
    [`stopped machine ${machine}`, "stopped gvproxy and its jail (pid N)", "closed the sidecar relays (N)", "stopped pipelock (pid N)"],
    describe(run),
  );
  assert.equal(smolvmVerbs(readSmolvmCalls(project.fakes)), ["status", "create", "start", "status", "exec", "status", "stop"]);
  assertNoLeftovers(project, "stopped");
});

test("FAKE_FAIL=smolvm:start on a stopped bottle's machine: resume fails at `machine` and keeps the machine (it is not this launch's to delete)", async () => {
  freshFakes(project);
  const first = await runBottle(project, ["launch"]);
  assert.is(first.code, 0, describe(first));
  const run = await runBottle(project, ["resume"], { env: { FAKE_FAIL: "smolvm:start" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, "resume failed at `machine`");
  assert.not.match(run.stderr, "could not undo", describe(run));
  assert.not.match(run.stderr, "deleted machine");
  assertNoLeftovers(project, "any");
  // smolvm leaves a machine whose boot failed in state `failed`; it is still there to resume.
  const after = await runBottle(project, ["resume"]);
  assert.is(after.code, 0, describe(after));
  assertNoLeftovers(project, "stopped");
});

test("a missing binary (no pipelock on PATH) fails preflight before anything starts", async () => {
  freshFakes(project);
  const path = binDirWith(["node", "dirname", "readlink", "smolvm", "gvproxy", "bwrap"]);
  const run = await runBottle(project, ["launch"], { path });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stdout, /FAILED\s+preflight: bottle launch needs this program, not found on PATH[^\n]*:\n\s+- pipelock\s+install: `npm run tools`/, describe(run));
  assert.match(run.stderr, "Nothing was started.");
  assert.not.match(run.stderr, "cleaned up");
  assert.equal(readSmolvmCalls(project.fakes), []);
  assert.equal(readPipelockEvents(project.fakes), []);
  assertNoLeftovers(project, "absent");
});

test("FAKE_BUSY_SMOLVM does not hide a real failure: a busy DB then a create failure still rolls back cleanly", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { env: { FAKE_BUSY_SMOLVM: "2", FAKE_FAIL: "smolvm:create" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, "launch failed at `machine`");
  assert.not.match(run.stderr, "database is locked");
  assertNoLeftovers(project, "absent");
});

test.run();
