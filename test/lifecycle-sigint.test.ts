// Proves that Ctrl-C (SIGINT to the bottle process) at every launch step
// rolls back what was started, exits 130, says how to resume, and leaves
// nothing behind (the harder interruptions are in lifecycle-sigint-force).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { assertNoLeftovers, describe, freshFakes, hangMarker, makeProject, startBottle, waitForMarker, type MachineExpectation } from "./helpers/lifecycle.js";

const project = makeProject("lc-int");

const steps: { hang: string; step: string; machine: MachineExpectation }[] = [
  { hang: "pipelock", step: "sidecars", machine: "absent" },
  { hang: "gvproxy", step: "network", machine: "absent" },
  { hang: "smolvm:create", step: "machine", machine: "absent" },
  // The machine was created by this launch and never attached: deleted.
  { hang: "smolvm:start", step: "machine", machine: "absent" },
  { hang: "smolvm:exec", step: "attach", machine: "stopped" },
];

for (const { hang, step, machine } of steps) {
  test(`SIGINT while ${hang} hangs (step \`${step}\`): exit 130, says how to resume, nothing left (machine ${machine})`, async () => {
    freshFakes(project);
    const run = startBottle(project, ["launch"], { env: { FAKE_HANG: hang } });
    await waitForMarker(run, hangMarker(project, hang));
    run.child.kill("SIGINT");
    const exit = await run.exit;
    assert.is(exit.code, 130, describe(exit));
    assert.match(exit.stderr, `SIGINT: stopping ${project.name}`);
    assert.match(exit.stderr, `${project.name} was interrupted.`, describe(exit));
    assert.match(exit.stderr, `\`bottle resume ${project.name}\``);
    assert.not.match(exit.stderr, "could not undo", describe(exit));
    assert.not.match(exit.stderr, /failed at/, describe(exit));
    assertNoLeftovers(project, machine);
  });
}

test.run();
