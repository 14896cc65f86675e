// Proves that an external program's failure is the user's to see, not a
// bug: with smolvm's `machine delete` failing, `bottle rm --yes NAME` exits 1
// with smolvm's own message (never 70, "internal error"), keeps the bottle
// it could not remove, and a retry once smolvm works removes it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readMachines } from "./helpers/fakes.js";
import { assertNoLeftovers, describe, freshFakes, lsJson, makeProject, runBottle } from "./helpers/lifecycle.js";

const project = makeProject("lc-rm-fail");
const registryEntry = join(project.home.XDG_STATE_HOME, "bottle", "bottles", `${project.name}.json`);

test("FAKE_FAIL=smolvm:delete: `bottle rm --yes NAME` exits 1 with smolvm's message and removes nothing it still needs", async () => {
  freshFakes(project);
  const launch = await runBottle(project, ["launch"]);
  assert.is(launch.code, 0, describe(launch));
  assert.is(readMachines(project.fakes)[project.machine]?.state, "stopped");

  const rm = await runBottle(project, ["rm", "--yes", project.name], { env: { FAKE_FAIL: "smolvm:delete" } });
  assert.is(rm.code, 1, describe(rm));
  assert.match(rm.stderr, `bottle: smolvm machine delete failed: deleting machine '${project.machine}' failed (injected by FAKE_FAIL=smolvm:delete)`, describe(rm));
  assert.not.match(rm.stderr, "internal error", describe(rm));
  assert.ok(readMachines(project.fakes)[project.machine], "the machine smolvm did not delete is still known");
  assert.ok(existsSync(registryEntry), "the registry entry stays, so `bottle rm` can be run again");
  assert.ok(existsSync(project.stageDir), "the stage dir stays");

  const again = await runBottle(project, ["rm", "--yes", project.name]);
  assert.is(again.code, 0, describe(again));
  assert.match(again.stdout, `deleted machine ${project.machine}`);
  assert.equal(await lsJson(project), []);
  assertNoLeftovers(project, "absent");
});

test.run();
