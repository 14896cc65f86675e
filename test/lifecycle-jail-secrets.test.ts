// Proves the launch's two security promises end to end: without a working
// network jail it refuses before starting anything and names the fix
// (`--unsafe-no-jail` runs anyway and says UNSAFE loudly); and a secret's
// value, passed by reference, shows up in no file bottle writes (stage,
// logs, state.json, run dir, registry) and in none of its output, but for
// pipelock's secrets file: 0600 in the private run dir while the bottle runs
// (pipelock's DLP reads it there), gone once it stops.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPipelockEvents, readSmolvmCalls } from "./helpers/fakes.js";
import {
  assertNoLeftovers,
  binDirWith,
  describe,
  filesUnder,
  freshFakes,
  hangMarker,
  makeProject,
  runBottle,
  SECRET_VALUE,
  SECRET_VAR,
  startBottle,
  waitForMarker,
} from "./helpers/lifecycle.js";

const project = makeProject("lc-jail");
const TOOLS = ["node", "dirname", "readlink", "smolvm", "gvproxy", "pipelock"];

test("no bwrap on PATH: launch refuses before starting anything and names the fix", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { path: binDirWith(TOOLS) });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stdout, /FAILED\s+preflight: [^]*- bwrap\s+install: apt-get install bubblewrap/, describe(run));
  assert.match(run.stderr, "Nothing was started.");
  assert.equal(readSmolvmCalls(project.fakes), []);
  assert.equal(readPipelockEvents(project.fakes), []);
  assertNoLeftovers(project, "absent");
});

test("a bwrap that cannot create namespaces: launch refuses before starting anything, with the user-namespace fix", async () => {
  freshFakes(project);
  const bin = binDirWith(TOOLS);
  const bwrap = join(bin, "bwrap");
  writeFileSync(bwrap, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n");
  chmodSync(bwrap, 0o755);
  const run = await runBottle(project, ["launch"], { path: bin });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stdout, "bubblewrap cannot create the jail's namespaces", describe(run));
  assert.match(run.stdout, "kernel.apparmor_restrict_unprivileged_userns=0");
  assert.match(run.stdout, "--unsafe-no-jail");
  assert.match(run.stderr, "Nothing was started.");
  assert.equal(readPipelockEvents(project.fakes), [], "pipelock was started before the jail was known to be unavailable");
  assert.equal(readSmolvmCalls(project.fakes), []);
  assertNoLeftovers(project, "absent");
});

test("--unsafe-no-jail without bwrap launches, and says UNSAFE on stderr", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch", "--unsafe-no-jail"], { path: binDirWith(TOOLS), env: { FAKE_EXEC_EXIT: "3" } });
  assert.is(run.code, 3, describe(run));
  assert.match(run.stderr, /UNSAFE: --unsafe-no-jail is set: gvproxy runs WITHOUT a network jail/);
  assert.match(run.stderr, "the agent exited with code 3");
  assertNoLeftovers(project, "stopped");
});

function filesHolding(roots: readonly string[], value: string): string[] {
  return roots.flatMap((root) => filesUnder(root)).filter((file) => readFileSync(file).includes(value));
}

test("the secret's value reaches no file under the stage, run or registry dirs, and none of bottle's output", async () => {
  freshFakes(project);
  const registry = join(project.home.XDG_STATE_HOME, "bottle");
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
  const secretsFile = join(project.runDir, "pipelock", "secrets");
  let ls: Awaited<ReturnType<typeof runBottle>>;
  let stop: Awaited<ReturnType<typeof runBottle>> | undefined;
  try {
    // While it runs: the run dir's record and sockets, the stage's state and logs so far.
    assert.ok(filesUnder(project.runDir).length > 0, "the run dir has files while running");
    assert.equal(filesHolding([project.stageDir, project.runDir, registry], SECRET_VALUE), [secretsFile], "files holding the secret while running: pipelock's secrets file only");
    assert.is(statSync(secretsFile).mode & 0o777, 0o600);
    ls = await runBottle(project, ["ls", "--json"]);
    stop = await runBottle(project, ["stop", project.name]);
  } finally {
    // A failed assertion must not leave the bottle hanging in its agent.
    if (stop === undefined) await runBottle(project, ["stop", project.name]);
  }
  assert.is(stop.code, 0, describe(stop));
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  // The secret did travel by reference: smolvm checked its variable at start and exec.
  assert.match(readFileSync(join(project.stageDir, "smolfile.toml"), "utf8"), `from_env = "${SECRET_VAR}"`);
  assert.ok(filesUnder(join(project.stageDir, "logs")).length >= 2, "logs were saved");
  assert.equal(filesHolding([project.stageDir, project.runDir, registry, project.home.XDG_CACHE_HOME], SECRET_VALUE), [], "files holding the secret after stop");
  assert.not.ok(existsSync(secretsFile), "the secrets file went with the run dir's other files");
  for (const [what, text] of [
    ["launch stdout", exit.stdout],
    ["launch stderr", exit.stderr],
    ["ls", ls.stdout + ls.stderr],
    ["stop", stop.stdout + stop.stderr],
  ] as const) {
    assert.not.ok(text.includes(SECRET_VALUE), `${what} holds the secret`);
  }
  assertNoLeftovers(project, "stopped");
});

test.run();
