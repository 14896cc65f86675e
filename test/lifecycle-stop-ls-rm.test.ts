// Proves `bottle stop`, `bottle ls` and `bottle rm` against a running,
// stopped and stale bottle: stop from another process tears the running
// bottle down and returns when it is done; ls reports running (with pid and
// ports), stopped and stale; rm refuses without --yes when there is no
// terminal, and with --yes removes everything a killed launcher left.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isAlive, readMachines, waitForPort } from "./helpers/fakes.js";
import {
  assertNoLeftovers,
  describe,
  freshFakes,
  hangMarker,
  liveProcesses,
  makeProject,
  runBottle,
  startBottle,
  waitForMarker,
} from "./helpers/lifecycle.js";

const project = makeProject("lc-ctl");
const registryEntry = join(project.home.XDG_STATE_HOME, "bottle", "bottles", `${project.name}.json`);

interface LsRow {
  name: string;
  state: string;
  why?: string;
  subnet: string;
  ports: Record<string, number>;
  pid: number | null;
  stage: string;
  config: string;
}

async function ls(): Promise<LsRow[]> {
  const run = await runBottle(project, ["ls", "--json"]);
  assert.is(run.code, 0, describe(run));
  return JSON.parse(run.stdout) as LsRow[];
}

/** The ports the `ports` task chose, from the stage's state.json. */
function allocatedPorts(): Record<string, number> {
  const state = JSON.parse(readFileSync(join(project.stageDir, "state.json"), "utf8")) as { tasks: Record<string, { result: unknown }> };
  return state.tasks.ports!.result as Record<string, number>;
}

test("ls shows a running bottle with its pid and ports; `bottle stop` from another process returns once it is torn down; the launcher exits 0", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));

  const [row] = await ls();
  assert.is(row?.name, project.name);
  assert.is(row?.state, "running");
  assert.is(row?.pid, launcher.pid);
  assert.equal(row?.ports, allocatedPorts());
  assert.is(row?.stage, project.stageDir);
  assert.match(row?.subnet ?? "", /^192\.168\.\d+\.0\/24$/);
  // The port ls reports is pipelock's, and it is live.
  await waitForPort(row!.ports.pipelock!, 1000);

  const stop = await runBottle(project, ["stop", project.name]);
  assert.is(stop.code, 0, describe(stop));
  assert.match(stop.stdout, `stopping ${project.name} (pid ${launcher.pid})`);
  assert.match(stop.stdout, `${project.name} stopped`);
  // stop has returned: the teardown is done, whether or not the launcher has exited yet.
  assert.is(readMachines(project.fakes)[project.machine]?.state, "stopped");
  assert.not.ok(existsSync(project.runDir), "the run dir is gone once stop returns");

  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assert.match(exit.stderr, `${project.name} was stopped by \`bottle stop\``);
  assert.not.match(exit.stderr, "could not undo", describe(exit));
  assertNoLeftovers(project, "stopped");

  const [after] = await ls();
  assert.is(after?.state, "stopped");
  assert.is(after?.pid, null);
  assert.equal(after?.ports, {});
});

test("`bottle stop` on a stopped bottle says it is not running", async () => {
  const stop = await runBottle(project, ["stop", project.name]);
  assert.is(stop.code, 0, describe(stop));
  assert.match(stop.stdout, `${project.name} is not running`);
  assertNoLeftovers(project, "stopped");
});

test("a SIGKILLed launcher leaves a stale bottle: ls says stale; rm without --yes and without a terminal exits 2 and removes nothing", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
  launcher.child.kill("SIGKILL");
  // Not `exit`: the orphaned agent session still holds bottle's stdout.
  await launcher.exited;

  const [row] = await ls();
  assert.is(row?.state, "stale");
  assert.is(row?.pid, launcher.pid);
  assert.not.ok(isAlive(launcher.pid));
  assert.match(row?.why ?? "", `pid ${launcher.pid}`);
  assert.ok(existsSync(join(project.runDir, "supervisor.json")), "the dead launcher's record stays");

  const leftBefore = liveProcesses(project.fakes, [project.runDir]).length;
  assert.ok(leftBefore > 0, "a killed launcher leaves its children (that is what rm is for)");

  const refused = await runBottle(project, ["rm", project.name]);
  assert.is(refused.code, 2, describe(refused));
  assert.match(refused.stderr, "--yes");
  assert.ok(existsSync(project.stageDir), "stage dir kept");
  assert.ok(existsSync(registryEntry), "registry entry kept");
  assert.ok(existsSync(join(project.runDir, "supervisor.json")), "run record kept");
  assert.is(readMachines(project.fakes)[project.machine]?.state, "running");
  assert.is(liveProcesses(project.fakes, [project.runDir]).length, leftBefore, "no process was killed");
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
  assert.equal(await ls(), []);
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
