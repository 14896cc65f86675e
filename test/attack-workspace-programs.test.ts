// Programs planted in the workspace (security review): the agent writes
// node_modules/.bin/{bwrap,smolvm,gvproxy,pipelock,gitleaks} into its
// writable workspace, and the user runs `npx bottle …` from inside the
// project, which puts that directory first on PATH. bottle must never run
// them (an agent-supplied bwrap would mean no jail at all; smolvm, pipelock
// and gitleaks run as the user): every command skips PATH entries inside a
// guest-writable workspace and says so. Each planted program writes a
// marker if it ever runs.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir } from "./helpers/fakes.js";
import { describe, freshFakes, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("plant-bin");
const bin = join(project.dir, "ws", "node_modules", ".bin");
const markers = tempDir("bpb-");
mkdirSync(bin, { recursive: true });
for (const tool of ["bwrap", "smolvm", "gvproxy", "pipelock", "gitleaks"]) {
  writeFileSync(join(bin, tool), `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(join(markers, "ran"))}\nexit 0\n`);
  chmodSync(join(bin, tool), 0o755);
}
// What `npx bottle` gives: the project's .bin first, then the real tools.
const PATH = `${bin}:${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
const ran = (): string => (existsSync(join(markers, "ran")) ? readFileSync(join(markers, "ran"), "utf8") : "");

test("build skips the workspace's programs on PATH and names the directory it skipped", async () => {
  const build = await runBottle(project, ["build"], { path: PATH });
  assert.is(build.code, 0, describe(build));
  assert.is(ran(), "", "a planted program ran");
  assert.match(build.stderr, `not looking for programs in ${bin} (on PATH): it is inside a workspace a bottle's guest can write`);
});

test("launch and rm run the real tools, never the planted ones (rm also skips registered workspaces)", async () => {
  freshFakes(project);
  const launch = await runBottle(project, ["launch"], { path: PATH });
  assert.is(launch.code, 0, describe(launch));
  assert.match(launch.stdout + launch.stderr, "fake-smolvm exec", "the real (fake) smolvm ran the agent");
  const rm = await runBottle(project, ["rm", project.name, "--yes"], { path: PATH, cwd: join(project.dir, "ws") });
  assert.is(rm.code, 0, describe(rm));
  assert.is(ran(), "", "a planted program ran");
});

test("rm with no smolvm on the trusted path says so; it does not fall back to the planted one", async () => {
  freshFakes(project);
  const launch = await runBottle(project, ["launch"], { path: PATH });
  assert.is(launch.code, 0, describe(launch));
  // No real smolvm anywhere but the workspace's .bin.
  const rm = await runBottle(project, ["rm", project.name, "--yes"], { path: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, cwd: join(project.dir, "ws") });
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout + rm.stderr, "smolvm is not installed, so machine");
  assert.is(ran(), "", "a planted program ran");
});

test.run();
