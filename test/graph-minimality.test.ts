import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, newWorld, probe, reasonsOf, task } from "./helpers/graph.js";
import { tempDir } from "./helpers/tmp.js";

// a ─┬─ b ── d
//    └─ c
// e (independent)
function diamond() {
  return [
    task("a", { output: "a.out" }),
    task("b", { needs: ["a"], output: "b.out" }),
    task("c", { needs: ["a"], output: "c.out" }),
    task("d", { needs: ["b"], output: "d.out" }),
    task("e", { output: "e.out" }),
  ];
}

test("a first build runs every task, each because it never ran", async () => {
  const root = tempDir();
  const { ran, events, result } = await build(root, diamond(), newWorld());
  assert.equal(ran, ["a", "b", "c", "d", "e"]);
  assert.ok(result.ok);
  assert.equal(reasonsOf(events, "d"), ["never ran"]);
});

test("a second build with nothing changed runs nothing", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, diamond(), world);
  const { ran, result } = await build(root, diamond(), world);
  assert.equal(ran, []);
  assert.equal(result.summary.fresh, 5);
});

test("changing one input runs that task and only the dependents whose inputs changed", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, diamond(), world);
  world.inputs.b = "new";
  const { ran, events } = await build(root, diamond(), world);
  assert.equal(ran, ["b", "d"]);
  assert.equal(reasonsOf(events, "b"), ["input `value` changed"]);
  assert.equal(reasonsOf(events, "d"), ["needs `b`, whose result changed"]);
});

test("nested inputs are named by their full path in the reason", async () => {
  const root = tempDir();
  const world = newWorld();
  const t = task("env", { inputs: (w) => ({ agent: { env: (w.inputs.env ?? {}) as Record<string, string> } }) });
  world.inputs.env = { FOO: "1", BAR: "x" };
  await build(root, [t], world);
  world.inputs.env = { FOO: "2", BAR: "x", NEW: "y" };
  const { events } = await build(root, [t], world);
  assert.equal(reasonsOf(events, "env"), ["input `agent.env.FOO` changed", "input `agent.env.NEW` was added"]);
});

test("a changed read file runs the task that reads it, naming the file", async () => {
  const root = tempDir();
  const src = join(tempDir(), "source.txt");
  writeFileSync(src, "one");
  const world = newWorld();
  const reader = task("reader", {
    reads: () => [src],
    output: "copy.txt",
    run: (run) => {
      run.ctx.runs.push("reader");
      run.write("copy.txt", readFileSync(src));
      return null;
    },
  });
  await build(root, [reader], world);
  assert.equal((await build(root, [reader], world)).ran, []);
  writeFileSync(src, "two");
  const { ran, events } = await build(root, [reader], world);
  assert.equal(ran, ["reader"]);
  assert.equal(reasonsOf(events, "reader"), [`file \`${src}\` changed`]);
  assert.is(readFileSync(join(root, "copy.txt"), "utf8"), "two");
});

test("a file rewritten with identical content does not run anything", async () => {
  const root = tempDir();
  const src = join(tempDir(), "source.txt");
  writeFileSync(src, "same");
  const world = newWorld();
  const reader = task("reader", { reads: () => [src] });
  await build(root, [reader], world);
  writeFileSync(src, "same");
  assert.equal((await build(root, [reader], world)).ran, []);
});

test("a version bump reruns the task and says its logic changed", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, [task("a")], world);
  const { ran, events } = await build(root, [task("a", { version: 2 })], world);
  assert.equal(ran, ["a"]);
  assert.equal(reasonsOf(events, "a"), ["its logic changed (version 1 → 2)"]);
});

test("--force TASK reruns that task; its unchanged result leaves dependents fresh", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, diamond(), world);
  const { ran, events } = await build(root, diamond(), world, { force: ["a"] });
  assert.equal(ran, ["a"]);
  assert.equal(reasonsOf(events, "a"), ["forced"]);
});

test("targets run only what they need", async () => {
  const root = tempDir();
  const { ran } = await build(root, diamond(), newWorld(), { targets: ["d"] });
  assert.equal(ran, ["a", "b", "d"]);
});

test("early cutoff: a volatile task that finds the same result stops the wave", async () => {
  const root = tempDir();
  const world = newWorld();
  world.probes.ports = { pipelock: 4000 };
  const tasks = [probe("ports"), task("render", { needs: ["ports"], output: "r.out" }), task("after", { needs: ["render"] })];
  await build(root, tasks, world);
  const again = await build(root, tasks, world);
  assert.equal(again.ran, ["ports"]);
  assert.equal(reasonsOf(again.events, "ports"), ["volatile: re-checked every run"]);
  const portsEvent = again.events.find((e) => e.type === "task" && e.task === "ports");
  assert.is(portsEvent?.type === "task" && portsEvent.changed, false);

  world.probes.ports = { pipelock: 4001 };
  const changed = await build(root, tasks, world);
  assert.equal(changed.ran, ["after", "ports", "render"]);
  assert.equal(reasonsOf(changed.events, "render"), ["needs `ports`, whose result changed"]);
});

test.run();
