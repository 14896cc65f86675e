// Proves what happens when a launcher dies without cleaning up (SIGKILL):
// ls says stale; rm refuses without --yes when there is no terminal, and
// with --yes kills what it left, deletes the machine, the stage and run dirs
// and the registry entry; the next launch clears the stale record itself
// and restarts the machine it left running; rm of a running bottle stops
// it first; the jail (bwrap, relay-inside, gvproxy) ends with the launcher
// that is bwrap's parent. Each scenario ends with the leftovers check.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isAlive, readMachines } from "./helpers/fakes.js";
import {
  assertNoLeftovers,
  describe,
  freshFakes,
  hangMarker,
  liveProcesses,
  lsJson,
  makeProject,
  runBottle,
  startBottle,
  waitForMarker,
} from "./helpers/lifecycle.js";
import { descendants } from "../src/lib/proc.js";

const project = makeProject("lc-stale");
const registryEntry = join(project.home.XDG_STATE_HOME, "bottle", "bottles", `${project.name}.json`);

/** The jail's processes: bwrap (found by its command line, which names the run dir) and everything under it (relay-inside, gvproxy). */
function jailProcesses(): number[] {
  const bwrap = liveProcesses(project.fakes, [project.runDir]).filter((p) => /^\S*\/bwrap\s/.test(p.cmdline));
  return bwrap.flatMap((p) => [p.pid, ...descendants(p.pid)]);
}

/**
 * Those of `pids` still alive once they are all gone, or at the deadline (a
 * process's end raises no event here to wait on, so /proc is read again
 * until then).
 */
async function survivors(pids: readonly number[], timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isAlive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("a SIGKILLed launcher leaves a stale bottle: ls says stale; rm without --yes and without a terminal exits 2 and removes nothing", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
  const jail = jailProcesses();
  assert.ok(jail.length >= 3, `bwrap, relay-inside and gvproxy run: ${jail.join(", ")}`);
  launcher.child.kill("SIGKILL");
  // Not `exit`: the orphaned agent session still holds bottle's stdout.
  await launcher.exited;

  const [row] = await lsJson(project);
  assert.is(row?.state, "stale");
  assert.is(row?.pid, launcher.pid);
  assert.not.ok(isAlive(launcher.pid));
  assert.match(row?.why ?? "", `pid ${launcher.pid}`);
  assert.ok(existsSync(join(project.runDir, "supervisor.json")), "the dead launcher's record stays");

  // The jail dies with bwrap's parent, the launcher, by itself: --die-with-parent, and the lifeline the launcher held closing.
  assert.equal(await survivors(jail), [], "the jail outlived the launcher");
  const leftovers = (): number[] => liveProcesses(project.fakes, [project.runDir]).map((p) => p.pid);
  const leftBefore = leftovers();
  assert.ok(leftBefore.length > 0, "a killed launcher leaves its children (that is what rm is for)");

  const refused = await runBottle(project, ["rm", project.name]);
  assert.is(refused.code, 2, describe(refused));
  assert.match(refused.stderr, "--yes");
  assert.ok(existsSync(project.stageDir), "stage dir kept");
  assert.ok(existsSync(registryEntry), "registry entry kept");
  assert.ok(existsSync(join(project.runDir, "supervisor.json")), "run record kept");
  assert.is(readMachines(project.fakes)[project.machine]?.state, "running");
  assert.equal(leftovers(), leftBefore, "no process was killed");
});

test("`bottle rm NAME --yes` clears the stale record, kills the leftover children, deletes the machine, the stage and run dirs and the registry entry", async () => {
  const rm = await runBottle(project, ["rm", project.name, "--yes"]);
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout, /killed leftover pipelock \(pid \d+\)/);
  // The agent's session (`smolvm machine exec`) was the launcher's child too.
  assert.match(rm.stdout, /killed leftover agent \(pid \d+\)/);
  assert.match(rm.stdout, `deleted machine ${project.machine}`);
  assert.match(rm.stdout, `removed ${project.stageDir}`);
  assertNoLeftovers(project, "absent");
  assert.not.ok(existsSync(project.stageDir), "stage dir removed");
  assert.not.ok(existsSync(registryEntry), "registry entry removed");
  assert.equal(await lsJson(project), []);
});

test("a launch after a SIGKILLed launcher kills what it left, clears its record, and restarts the machine it left running", async () => {
  freshFakes(project);
  const killed = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(killed, hangMarker(project, "smolvm:exec"));
  killed.child.kill("SIGKILL");
  await killed.exited;
  assert.is(readMachines(project.fakes)[project.machine]?.state, "running");

  const run = await runBottle(project, ["resume"]);
  assert.is(run.code, 0, describe(run));
  assert.match(run.stderr, /killed leftover pipelock \(pid \d+\)/);
  assert.match(run.stderr, /killed leftover agent \(pid \d+\)/);
  assert.match(run.stderr, `cleared the stale run dir of pid ${killed.pid}`);
  assert.match(run.stdout, `${project.machine} was left running: restarting it`);
  await killed.exit;
  assertNoLeftovers(project, "stopped");
});

test("`bottle rm --yes` on a running bottle stops it first, then removes it", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
  const rm = await runBottle(project, ["rm", "--yes"]);
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout, `${project.name} stopped`, describe(rm));
  assert.match(rm.stdout, `deleted machine ${project.machine}`);
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assertNoLeftovers(project, "absent");
  assert.not.ok(existsSync(project.stageDir), "stage dir removed");
  assert.not.ok(existsSync(registryEntry), "registry entry removed");
});

test.run();
