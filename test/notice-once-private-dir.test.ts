// The one-time notices' memory lives in a private dir under the state dir
// ($XDG_STATE_HOME/bottle/notices): a symlink planted there, or a dir others
// can write, is never written through or into. The notice is then given
// every time instead of being remembered.
import { chmodSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describeRun, homeFor, makeProject, runBottle } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const noPreset = { name: "demo", image: "alpine:3.20", agent: { command: ["sh"] }, egress: { allow: ["example.com"] } };

function noticesGiven(project: string, times: number): void {
  for (let i = 0; i < times; i++) {
    const run = runBottle(["build"], { cwd: project });
    assert.is(run.code, 0, describeRun(run));
    assert.is(run.stderr.split("\n").filter((line) => line.startsWith("notice: ")).length, 1, `run ${i + 1} gives the notice: ${run.stderr}`);
  }
}

test("a symlink at the notices dir is not followed: nothing is written where it points, and the notice is given each time", () => {
  const project = makeProject(noPreset);
  const victim = tempDir("victim-");
  mkdirSync(join(homeFor(project).XDG_STATE_HOME, "bottle"), { mode: 0o700 });
  symlinkSync(victim, join(homeFor(project).XDG_STATE_HOME, "bottle", "notices"));
  noticesGiven(project, 2);
  assert.equal(readdirSync(victim), []);
});

test("a notices dir other users can write is not used", () => {
  const project = makeProject(noPreset);
  const notices = join(homeFor(project).XDG_STATE_HOME, "bottle", "notices");
  mkdirSync(notices, { recursive: true, mode: 0o700 });
  chmodSync(notices, 0o777);
  noticesGiven(project, 2);
  assert.equal(readdirSync(notices), []);
});

test.run();
