// A stage dir or run dir that reaches the writable workspace through a
// symlink is inside it (issue 20): the confinement check compares real
// paths, so the guest cannot be handed pipelock.yaml or the bottle's sockets
// by naming them through a link. Checked on confinementProblems itself and
// end to end: `bottle build --stage` and `bottle launch` with XDG_RUNTIME_DIR
// through a link into the workspace both refuse (exit 2) before anything is
// written or started.
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { confinementProblems } from "../src/config/host-checks.js";
import type { BottleConfig } from "../src/config/resolved.js";
import { validateConfig } from "../src/config/validate.js";
import { readSmolvmCalls } from "./helpers/fakes.js";
import { describe, freshFakes, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const STAGE_REFUSAL = "the guest could rewrite its rendered files (pipelock.yaml, smolfile.toml)";
const RUN_REFUSAL = "the guest could reach the bottle's sockets";

function configWith(workspace: string): BottleConfig {
  const result = validateConfig({ name: "demo", image: "alpine:3", agent: { command: ["sh"] } }, "/");
  if (!result.ok) throw new Error("base config is invalid");
  return { ...result.config, workspace: { host: workspace, guest: "/workspace", readOnly: false } };
}

/** A workspace, and a link to it from outside. */
function linkedWorkspace(): { workspace: string; link: string } {
  const workspace = tempDir("bws-");
  const link = join(tempDir("blink-"), "ws");
  symlinkSync(workspace, link);
  return { workspace, link };
}

function refusals(workspace: string, dirs: { stageDir?: string; runDir?: string }): string[] {
  const problems = confinementProblems(configWith(workspace), { configFiles: [], stageDir: dirs.stageDir ?? "/elsewhere/stage", runDir: dirs.runDir ?? "/elsewhere/run" });
  return problems.map((p) => p.message);
}

test("a stage dir under a link to the workspace is refused, existing or not yet made", () => {
  const { workspace, link } = linkedWorkspace();
  const made = join(link, ".bottle", "demo");
  mkdirSync(made, { recursive: true });
  for (const stageDir of [made, join(link, "not-yet", "demo")]) {
    const found = refusals(workspace, { stageDir });
    assert.is(found.length, 1, `${stageDir}: ${found.join("\n")}`);
    assert.match(found[0]!, STAGE_REFUSAL);
    assert.match(found[0]!, `holds the stage dir ${stageDir}`);
  }
});

test("a stage dir that is itself a link into the workspace is refused", () => {
  const { workspace } = linkedWorkspace();
  mkdirSync(join(workspace, "stage"));
  const stageDir = join(tempDir("blink-"), "stage");
  symlinkSync(join(workspace, "stage"), stageDir);
  const found = refusals(workspace, { stageDir });
  assert.is(found.length, 1, found.join("\n"));
  assert.match(found[0]!, STAGE_REFUSAL);
});

test("a run dir under a link to the workspace is refused, existing or not yet made", () => {
  const { workspace, link } = linkedWorkspace();
  mkdirSync(join(link, "run", "bottle", "demo"), { recursive: true });
  for (const runDir of [join(link, "run", "bottle", "demo"), join(link, "later", "bottle", "demo")]) {
    const found = refusals(workspace, { runDir });
    assert.is(found.length, 1, `${runDir}: ${found.join("\n")}`);
    assert.match(found[0]!, RUN_REFUSAL);
    assert.match(found[0]!, `holds the run dir ${runDir}`);
  }
});

test("a link out of the workspace's reach is fine: stage and run dirs whose real paths are elsewhere", () => {
  const { workspace } = linkedWorkspace();
  const elsewhere = tempDir("belse-");
  const link = join(tempDir("blink-"), "out");
  symlinkSync(elsewhere, link);
  assert.equal(refusals(workspace, { stageDir: join(link, "stage"), runDir: join(link, "run") }), []);
});

test("bottle build --stage through a link into the workspace: refused (exit 2), nothing rendered there", async () => {
  const project = makeProject("conf-stage-link");
  const link = join(tempDir("blink-"), "ws");
  symlinkSync(join(project.dir, "ws"), link);
  const stage = join(link, "stage");
  const build = await runBottle(project, ["build", "--stage", stage]);
  assert.is(build.code, 2, describe(build));
  assert.match(build.stderr, STAGE_REFUSAL);
  assert.not.ok(existsSync(join(project.dir, "ws", "stage", "pipelock.yaml")), "rendered into the workspace");
});

test("bottle launch with XDG_RUNTIME_DIR through a link into the workspace: refused (exit 2) before anything starts", async () => {
  const project = makeProject("conf-run-link");
  const link = join(tempDir("blink-"), "ws");
  symlinkSync(join(project.dir, "ws"), link);
  const runtime = join(link, "runtime");
  mkdirSync(runtime, { mode: 0o700 });
  freshFakes(project);
  const launch = await runBottle(project, ["launch"], { env: { XDG_RUNTIME_DIR: runtime } });
  assert.is(launch.code, 2, describe(launch));
  assert.match(launch.stderr, RUN_REFUSAL);
  assert.equal(readSmolvmCalls(project.fakes), [], "smolvm ran");
  assert.equal(readdirSync(runtime), [], "something was made in the run dir's parent");
});

test.run();
