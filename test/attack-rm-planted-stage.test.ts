// `bottle rm NAME` for a bottle only ever built finds its stage by path,
// beside the config of the current directory (or at --stage). The agent of
// a running bottle can write its workspace: a config and a `.bottle/NAME`
// stage planted there (or a --stage pointing into it) are refused, and
// nothing in them is touched. bottle never makes a stage inside a
// guest-writable workspace, and deleting in a directory the guest can
// rearrange meanwhile (a subdir swapped for a symlink between the check
// and the delete) would reach beyond it.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describe, freshFakes, lsJson, makeProject, runBottle } from "./helpers/lifecycle.js";

const owner = makeProject("rm-ws-owner");
const PLANTED = "rm-planted";

/** What the guest writes in its workspace: a config and a stage that names PLANTED, files and marks as bottle makes them. */
function plantStage(at: string): string {
  const stage = join(at, ".bottle", PLANTED);
  mkdirSync(stage, { recursive: true, mode: 0o700 });
  writeFileSync(join(stage, "bottle.json"), `${JSON.stringify({ format: "bottle-stage", slug: PLANTED })}\n`);
  writeFileSync(join(stage, "gvproxy.yaml"), "planted\n");
  return stage;
}

test("setup: a bottle whose guest can write its workspace is registered", async () => {
  freshFakes(owner);
  const launch = await runBottle(owner, ["launch"]);
  assert.is(launch.code, 0, describe(launch));
  assert.equal((await lsJson(owner)).map((row) => row.name), [owner.name]);
});

test("bottle rm NAME in the workspace, with a config and .bottle/NAME planted there: refused, nothing deleted", async () => {
  const workspace = join(owner.dir, "ws");
  writeFileSync(join(workspace, "bottle.config.ts"), "export default {};\n");
  const stage = plantStage(workspace);
  const rm = await runBottle(owner, ["rm", "--yes", PLANTED], { cwd: workspace });
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, `${workspace}`, describe(rm));
  assert.match(rm.stderr, "nothing was deleted", describe(rm));
  assert.ok(existsSync(join(stage, "gvproxy.yaml")), "the planted stage is untouched");
});

test("bottle rm NAME --stage into the workspace: refused, nothing deleted", async () => {
  const stage = plantStage(join(owner.dir, "ws", "elsewhere"));
  const rm = await runBottle(owner, ["rm", "--yes", PLANTED, "--stage", stage]);
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, "nothing was deleted", describe(rm));
  assert.ok(existsSync(join(stage, "gvproxy.yaml")), "the planted stage is untouched");
});

test("cleanup: the owner bottle is removed", async () => {
  const rm = await runBottle(owner, ["rm", "--yes", owner.name]);
  assert.is(rm.code, 0, describe(rm));
});

test.run();
