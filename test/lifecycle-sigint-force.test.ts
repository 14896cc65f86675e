// Proves the harder interruptions: Ctrl-C at a terminal (SIGINT to the
// whole process group, so the smolvm call in progress gets it too), SIGHUP
// after the terminal is gone (every write fails), and a second SIGINT that
// forces an exit out of a hung teardown without leaving a process alive.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { assertNoLeftovers, describe, freshFakes, hangMarker, liveProcesses, makeProject, runBottle, startBottle, waitForMarker } from "./helpers/lifecycle.js";

const project = makeProject("lc-force");

test("Ctrl-C at a terminal (SIGINT to bottle's whole process group, smolvm start included): exit 130, the new machine deleted, nothing left", async () => {
  freshFakes(project);
  const run = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:start" }, group: true });
  await waitForMarker(run, hangMarker(project, "smolvm:start"));
  process.kill(-run.pid, "SIGINT");
  const exit = await run.exit;
  assert.is(exit.code, 130, describe(exit));
  assert.match(exit.stderr, `\`bottle resume ${project.name}\``);
  assert.not.match(exit.stderr, "could not undo", describe(exit));
  assertNoLeftovers(project, "absent");
});

test("SIGHUP after the terminal is gone (bottle's output pipes closed): teardown still runs to the end", async () => {
  freshFakes(project);
  const run = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(run, hangMarker(project, "smolvm:exec"));
  run.child.stdout!.destroy();
  run.child.stderr!.destroy();
  run.child.kill("SIGHUP");
  await run.exited;
  assert.is(run.child.exitCode, 130, `exit ${run.child.exitCode} (${run.child.signalCode})`);
  assertNoLeftovers(project, "stopped");
});

test("a second SIGINT while teardown hangs (smolvm stop) forces: exit 130 at once, and no process is left alive", async () => {
  freshFakes(project);
  const run = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec,smolvm:stop" } });
  await waitForMarker(run, hangMarker(project, "smolvm:exec"));
  run.child.kill("SIGINT");
  // Teardown is now stuck in `smolvm machine stop`.
  await waitForMarker(run, hangMarker(project, "smolvm:stop"));
  const forcedAt = Date.now();
  run.child.kill("SIGINT");
  const exit = await run.exit;
  const took = Date.now() - forcedAt;
  assert.is(exit.code, 130, describe(exit));
  assert.match(exit.stderr, "SIGINT again: killing every child process now");
  // Well under smolvm's call timeout and the 5 s SIGTERM grace: nothing was waited for.
  assert.ok(took < 4000, `took ${took} ms to exit after the second SIGINT`);
  assert.equal(
    liveProcesses(project.fakes, [project.runDir]).map((p) => `${p.pid} ${p.cmdline} (${p.why})`),
    [],
    "processes left alive after the forced exit",
  );
  // The machine's VM was killed, not stopped (smolvm's DB still says running): the next resume brings it back.
  const after = await runBottle(project, ["resume"]);
  assert.is(after.code, 0, describe(after));
  assertNoLeftovers(project, "stopped");
});

test.run();
