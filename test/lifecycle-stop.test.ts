// Proves `bottle stop` and `bottle ls` against a running and a stopped
// bottle: stop from another process tears the running bottle down (during
// the agent or before it is attached) and returns when it is done, the
// launcher then exits 0, and gvproxy in its jail stops cleanly; ls reports running (with pid and ports) and
// stopped. Each scenario ends with the leftovers check.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readMachines, waitForPort } from "./helpers/fakes.js";
import { assertNoLeftovers, describe, freshFakes, hangMarker, lsJson, makeProject, runBottle, startBottle, waitForMarker } from "./helpers/lifecycle.js";

const project = makeProject("lc-stop");

/** The ports the `ports` task chose, from the stage's state.json. */
function allocatedPorts(): Record<string, number> {
  const state = JSON.parse(readFileSync(join(project.stageDir, "state.json"), "utf8")) as { tasks: Record<string, { result: unknown }> };
  return state.tasks.ports!.result as Record<string, number>;
}

test("ls shows a running bottle with its pid and ports; `bottle stop` from another process returns once it is torn down; the launcher exits 0", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));

  const [row] = await lsJson(project);
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
  // The stop's SIGTERM reached gvproxy through its jail's pid 1 (bwrap itself would have SIGKILLed it).
  assert.match(readFileSync(join(project.stageDir, "logs", "gvproxy.log"), "utf8"), "gvproxy exiting: signal caught");
  assertNoLeftovers(project, "stopped");

  const [after] = await lsJson(project);
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

test("`bottle stop` before the agent is attached (smolvm start hanging) rolls the launch back; the launcher exits 0", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:start" } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:start"));
  const stop = await runBottle(project, ["stop"]);
  assert.is(stop.code, 0, describe(stop));
  assert.match(stop.stdout, `${project.name} stopped`);
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assert.match(exit.stderr, `${project.name} was stopped by \`bottle stop\``);
  assert.match(exit.stderr, `deleted machine ${project.machine}, which this launch had created`);
  assert.not.match(exit.stderr, "could not undo", describe(exit));
  assertNoLeftovers(project, "absent");
});

test.run();
