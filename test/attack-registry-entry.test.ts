// The registry is not trusted blindly (issue 9, point 7). A hand-written
// entry pointing `stageDir` and `runDir` at other directories makes
// `bottle rm NAME --yes` refuse and delete nothing, whether the run dir is
// not the one bottle derives for the name, the stage dir does not name the
// bottle, or the name is not a slug (`..` would derive a run dir one level
// up). A registry dir that is not the user's alone is not read at all. A
// stage dir made before bottle marked stages (named after the slug, with a
// bottle state file) is still removed, and only bottle's own files in it.
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { snapshotTree } from "./helpers/cli.js";
import { describe, freshFakes, makeProject, runBottle, type Project } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("dirs-reg");
const registry = join(project.home.XDG_STATE_HOME, "bottle", "bottles");
const STATE = JSON.stringify({ format: "bottle-graph-state", version: 1, tasks: {}, files: {}, failures: {} });

/** A directory holding files with the names bottle uses in a stage and a run dir, and one of the user's own. */
function victimDir(): string {
  const dir = tempDir("bvd-");
  // Private, as bottle's own would be: what tells them apart is the mark.
  mkdirSync(join(dir, "logs"), { mode: 0o700 });
  mkdirSync(join(dir, "relays"), { mode: 0o700 });
  const files: [string, string][] = [
    ["state.json", STATE],
    ["pipelock.yaml", "mine\n"],
    ["supervisor.json", "{}"],
    ["logs/pipelock.log", "mine\n"],
    ["relays/4000.sock", "mine\n"],
    ["my-notes.txt", "mine\n"],
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return dir;
}

function writeEntry(p: Project, slug: string, fields: { stageDir: string; runDir: string }): string {
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  const file = join(registry, `${slug}.json`);
  writeFileSync(file, JSON.stringify({ slug, backend: "smolmachines", configPath: join(p.dir, "bottle.config.ts"), octet: 7, writable: [], updatedAt: 1, ...fields }));
  return file;
}

test("an entry whose run dir is not the one bottle derives for the name: rm --yes deletes nothing and says why", async () => {
  const [stage, run] = [victimDir(), victimDir()];
  const before = [snapshotTree(stage), snapshotTree(run)];
  const file = writeEntry(project, project.name, { stageDir: stage, runDir: run });
  const rm = await runBottle(project, ["rm", project.name, "--yes"]);
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, `nothing was deleted for \`${project.name}\`: its registry entry cannot be trusted: its run dir ${run} is not the one bottle derives for \`${project.name}\` (${project.runDir})`);
  assert.match(rm.stderr, `delete ${file}`);
  assert.equal([snapshotTree(stage), snapshotTree(run)], before, "nothing changed in either directory");
});

test("an entry with the right run dir but a stage dir that is not the bottle's (a bottle state file, but no mark and another name): rm --yes deletes nothing", async () => {
  const stage = victimDir();
  mkdirSync(project.runDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(project.runDir, "supervisor.json"), "{}");
  const before = [snapshotTree(stage), snapshotTree(project.runDir)];
  writeEntry(project, project.name, { stageDir: stage, runDir: project.runDir });
  const rm = await runBottle(project, ["rm", project.name, "--yes"]);
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, `${stage} is not its stage dir: it has no bottle.json naming \`${project.name}\`, and it is not named ${project.name}`, describe(rm));
  assert.equal([snapshotTree(stage), snapshotTree(project.runDir)], before, "nothing changed in either directory");
});

test("an entry whose name is not a slug (`..`, whose derived run dir would be one level up): rm --yes deletes nothing", async () => {
  const stage = victimDir();
  const before = snapshotTree(stage);
  writeEntry(project, "..", { stageDir: stage, runDir: join(project.home.XDG_RUNTIME_DIR, "bottle", "..") });
  const rm = await runBottle(project, ["rm", "..", "--yes"]);
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, "`..` is not a valid bottle name");
  assert.equal(snapshotTree(stage), before);
});

test("a stage dir from before the mark (named after the slug, with a bottle state file) is removed, keeping what bottle did not make", async () => {
  freshFakes(project);
  mkdirSync(join(project.stageDir, "logs"), { recursive: true, mode: 0o700 });
  writeFileSync(join(project.stageDir, "state.json"), STATE);
  writeFileSync(join(project.stageDir, "pipelock.yaml"), "x\n");
  writeFileSync(join(project.stageDir, "logs", "pipelock.log"), "x\n");
  writeFileSync(join(project.stageDir, "my-notes.txt"), "mine\n");
  writeEntry(project, project.name, { stageDir: project.stageDir, runDir: project.runDir });
  const rm = await runBottle(project, ["rm", project.name, "--yes"]);
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout, `kept what bottle did not make: ${join(project.stageDir, "my-notes.txt")}`);
  assert.equal(snapshotTree(project.stageDir).map((line) => line.split(" ")[0]), ["my-notes.txt"]);
});

const root = process.getuid?.() === 0;
if (!root) skipSuite("attack-registry-entry (registry dir of another user)", "needs root to chown");

(root ? test : test.skip)("a registry dir owned by another user is not read: ls and rm refuse, naming it", async () => {
  writeEntry(project, project.name, { stageDir: project.stageDir, runDir: project.runDir });
  chownSync(registry, 65534, 65534);
  for (const args of [["ls"], ["rm", project.name, "--yes"]]) {
    const run = await runBottle(project, args);
    assert.is(run.code, 2, describe(run));
    assert.match(run.stderr, `refusing to use the registry dir ${registry}: ${registry} belongs to uid 65534`);
  }
  chownSync(registry, 0, 0);
});

test.run();
