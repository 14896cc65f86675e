// A stage dir someone else can write (issue 9, point 6). Another user, in a
// shared directory, makes the stage dir first and plants logs/pipelock.log
// as a symlink to a file of the victim's: launch and build refuse the stage
// (exit 2) before anything starts, and the victim's file is unchanged. A
// stage under a directory everyone can write without the sticky bit is
// refused too. And in the victim's own private stage, a symlink at a log's
// name is never written through.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { readPipelockEvents, readSmolvmCalls } from "./helpers/fakes.js";
import { assertNoLeftovers, describe, freshFakes, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";
import { makeUser, otherUsersUnavailable } from "./helpers/users.js";

const project = makeProject("dirs-stage");
const VICTIM_TEXT = "# the victim's ~/.bashrc\nexport PATH=$HOME/bin:$PATH\n";

function victimFile(): string {
  const path = join(tempDir("bv-"), ".bashrc");
  writeFileSync(path, VICTIM_TEXT);
  return path;
}

const unavailable = otherUsersUnavailable();
if (unavailable) skipSuite("attack-stage-dir (another user's stage)", unavailable);

(unavailable ? test.skip : test)("another user's stage dir in a shared directory, with logs/pipelock.log → the victim's file: launch and build refuse it; the file is unchanged", async () => {
  const attacker = makeUser("dirsst");
  const shared = tempDir("bsh-");
  chmodSync(shared, 0o1777);
  const stage = join(shared, "stage");
  const bashrc = victimFile();
  const as = { uid: attacker.uid, gid: attacker.gid, encoding: "utf8" } as const;
  for (const [command, ...args] of [
    ["mkdir", "-m", "0755", stage],
    ["mkdir", "-m", "0755", join(stage, "logs")],
    ["ln", "-s", bashrc, join(stage, "logs", "pipelock.log")],
  ] as const) {
    const done = spawnSync(command, args, as);
    assert.is(done.status, 0, `${command} as ${attacker.name}: ${done.stderr}`);
  }

  freshFakes(project);
  for (const args of [["launch", "--stage", stage], ["build", "--stage", stage]]) {
    const run = await runBottle(project, args);
    assert.is(run.code, 2, describe(run));
    assert.match(run.stderr, `refusing to use the stage dir ${stage}: ${stage} belongs to uid ${attacker.uid}, not to you`);
    assert.is(readFileSync(bashrc, "utf8"), VICTIM_TEXT, `bottle ${args[0]} wrote through the planted link`);
  }
  assert.equal(readSmolvmCalls(project.fakes), [], "nothing started");
  assert.equal(readPipelockEvents(project.fakes), []);
  assertNoLeftovers(project, "absent");
});

test("a stage under a directory everyone can write (not sticky), or a stage others can write, is refused before anything starts", async () => {
  const open = tempDir("bop-");
  chmodSync(open, 0o777);
  const loose = join(tempDir("blo-"), "stage");
  mkdirSync(loose, { mode: 0o700 });
  chmodSync(loose, 0o775);
  freshFakes(project);
  for (const [stage, problem] of [
    [join(open, "stage"), `${open} is writable by every user (mode 0777) and not sticky`],
    [loose, `${loose} has mode 0775`],
  ] as const) {
    const run = await runBottle(project, ["launch", "--stage", stage]);
    assert.is(run.code, 2, describe(run));
    assert.match(run.stderr, `refusing to use the stage dir ${stage}: ${problem}`);
  }
  assert.equal(readSmolvmCalls(project.fakes), [], "nothing started");
});

test("in the victim's own stage, a symlink at logs/pipelock.log is not written through: the launch fails naming it, the file is unchanged", async () => {
  freshFakes(project);
  const build = await runBottle(project, ["build"]);
  assert.is(build.code, 0, describe(build));
  const bashrc = victimFile();
  mkdirSync(join(project.stageDir, "logs"), { recursive: true, mode: 0o700 });
  rmSync(join(project.stageDir, "logs", "pipelock.log"), { force: true });
  symlinkSync(bashrc, join(project.stageDir, "logs", "pipelock.log"));
  const run = await runBottle(project, ["launch"]);
  assert.is.not(run.code, 0, describe(run));
  assert.match(run.stdout, `refusing to write the log ${join(project.stageDir, "logs", "pipelock.log")}: it is a symlink`);
  assert.is(readFileSync(bashrc, "utf8"), VICTIM_TEXT, "the launch wrote through the link");
  assertNoLeftovers(project, "any");
});

test.run();
