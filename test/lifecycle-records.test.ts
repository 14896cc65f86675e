// Proves how bottle reads and guards a run dir it did not just make: a
// record whose pid now belongs to another process is stale (not running),
// a live launcher that cannot be reached is reported as such, and a run dir
// (or its parent) that is a symlink or belongs to another user is refused
// (exit 2) before anything starts. test/private-dirs.test.ts has the rest.
import { chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPipelockEvents, readSmolvmCalls } from "./helpers/fakes.js";
import { assertNoLeftovers, describe, freshFakes, makeProject, runBottle, type Project } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";
import { requireRoot, skipSuite } from "./helpers/skip.js";

const project = makeProject("lc-rec");
const base = dirname(project.runDir);

function ownStartTime(): string {
  const stat = readFileSync("/proc/self/stat", "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

/** A run record as a launcher writes it, claiming `pid`. */
function writeRecord(p: Project, pid: number, pidStartTime: string): void {
  mkdirSync(p.runDir, { recursive: true, mode: 0o700 });
  const record = {
    pid,
    pidStartTime,
    slug: p.name,
    stageDir: p.stageDir,
    configPath: join(p.dir, "bottle.config.ts"),
    octet: 9,
    ports: {},
    children: {},
    startedAt: Date.now(),
    control: join(p.runDir, "control.sock"),
  };
  writeFileSync(join(p.runDir, "supervisor.json"), JSON.stringify(record));
}

interface LsRow {
  name: string;
  state: string;
  pid: number | null;
}

test("a record whose pid was reused by another process is stale: ls says so, and a launch clears it and runs", async () => {
  freshFakes(project);
  // A launch that ran registers the bottle (for ls); its record is then replaced by a stale one.
  const first = await runBottle(project, ["launch"]);
  assert.is(first.code, 0, describe(first));

  // This test process stands in for an unrelated process that got the dead launcher's pid.
  writeRecord(project, process.pid, "1");
  const ls = await runBottle(project, ["ls", "--json"]);
  const rows = JSON.parse(ls.stdout) as LsRow[];
  assert.is(rows.find((r) => r.name === project.name)?.state, "stale", ls.stdout);

  const run = await runBottle(project, ["launch"]);
  assert.is(run.code, 0, describe(run));
  assert.match(run.stderr, `cleared the stale run dir of pid ${process.pid}`);
  assertNoLeftovers(project, "stopped");
});

test("`bottle stop` on a live launcher whose control socket is gone says it cannot reach it (exit 1, not an internal error)", async () => {
  writeRecord(project, process.pid, ownStartTime());
  try {
    const stop = await runBottle(project, ["stop", project.name]);
    assert.is(stop.code, 1, describe(stop));
    assert.match(stop.stderr, `could not reach ${project.name}'s launcher (pid ${process.pid})`);
    assert.match(stop.stderr, `kill ${process.pid}`);
    assert.not.match(stop.stderr, "internal error");
  } finally {
    rmSync(project.runDir, { recursive: true, force: true });
  }
});

test("a run dir parent that is a symlink is refused before anything starts", async () => {
  freshFakes(project);
  rmSync(base, { recursive: true, force: true });
  const elsewhere = tempDir("bx-");
  symlinkSync(elsewhere, base);
  try {
    const run = await runBottle(project, ["launch"]);
    assert.is(run.code, 2, describe(run));
    assert.match(run.stderr, `${base} is a symlink, not a directory`, describe(run));
    assert.equal(readSmolvmCalls(project.fakes), []);
    assert.equal(readPipelockEvents(project.fakes), []);
  } finally {
    rmSync(base, { force: true });
  }
  assertNoLeftovers(project, "absent");
});

const notRoot = requireRoot("it chowns a run dir parent to another user");
if (notRoot) skipSuite("lifecycle-records (run dir owned by another user)", notRoot);

(notRoot ? test.skip : test)("a run dir parent owned by another user is refused before anything starts (needs root to chown)", async () => {
  freshFakes(project);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  chownSync(base, 65534, 65534);
  try {
    const run = await runBottle(project, ["launch"]);
    assert.is(run.code, 2, describe(run));
    assert.match(run.stderr, `${base} belongs to uid 65534, not to you (uid 0)`, describe(run));
    assert.equal(readSmolvmCalls(project.fakes), []);
    assert.equal(readPipelockEvents(project.fakes), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  assertNoLeftovers(project, "absent");
});

test.run();
