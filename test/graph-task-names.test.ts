// A task's name is only a key: names that are also the names of Object's
// own properties (`__proto__`, `constructor`, `toString`) run, are recorded
// and are fresh the next time like any other. So are the files a task reads
// and writes and its inputs' names.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { resultOf, runGraph, taskDefiner } from "../src/graph/index.js";
import { build, newWorld, statusOf, task } from "./helpers/graph.js";
import { tempDir } from "./helpers/tmp.js";

const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

test("tasks named like Object's own properties run, report their results, and are fresh the next run", async () => {
  const root = tempDir();
  // The test's own inputs are keyed by task name too.
  const world = { ...newWorld(), inputs: Object.create(null) as Record<string, string> };
  const tasks = [...NAMES.map((name) => task(name)), task("after", { needs: NAMES })];
  for (const name of NAMES) world.inputs[name] = `input of ${name}`;
  const first = await build(root, tasks, world);
  assert.ok(first.result.ok, JSON.stringify(first.result.failures));
  assert.equal(Object.keys(first.result.outcomes).sort(), [...NAMES, "after"].sort());
  for (const name of NAMES) {
    assert.is(first.result.outcomes[name], "ran", name);
    assert.ok(Object.hasOwn(first.result.results, name), `${name}'s result is its own entry`);
    assert.equal((first.result.results[name] as { own: unknown }).own, `input of ${name}`);
  }
  assert.equal(Object.keys((first.result.results.after as { needs: object }).needs).sort(), [...NAMES].sort());
  const second = await build(root, tasks, world);
  assert.equal(second.ran, []);
  for (const name of [...NAMES, "after"]) assert.is(statusOf(second.events, name), "fresh", name);
  world.inputs["__proto__"] = "changed";
  const third = await build(root, tasks, world);
  assert.equal(third.ran.sort(), ["__proto__", "after"]);
});

// File paths and input names are keys too: a file in the stage dir named
// `__proto__` (which a task may read or write) and an input of that name.
test("a task that reads a file named __proto__ runs again when that file changes", async () => {
  const root = tempDir();
  const world = newWorld();
  writeFileSync(join(root, "__proto__"), "first");
  const tasks = [task("reader", { reads: () => ["__proto__"] })];
  assert.equal((await build(root, tasks, world)).ran, ["reader"]);
  assert.equal((await build(root, tasks, world)).ran, []);
  writeFileSync(join(root, "__proto__"), "second");
  assert.equal((await build(root, tasks, world)).ran, ["reader"], "the changed read made the task stale");
});

test("a task that writes a file named __proto__ runs again when that output is changed by hand", async () => {
  const root = tempDir();
  const world = newWorld();
  const tasks = [task("writer", { output: "__proto__" })];
  assert.equal((await build(root, tasks, world)).ran, ["writer"]);
  assert.equal((await build(root, tasks, world)).ran, []);
  writeFileSync(join(root, "__proto__"), "tampered");
  assert.equal((await build(root, tasks, world)).ran, ["writer"], "the modified output made the task stale");
  assert.not.equal(readFileSync(join(root, "__proto__"), "utf8"), "tampered");
});

test("an input named __proto__ is an input like any other", async () => {
  const root = tempDir();
  const world = newWorld();
  const tasks = [task("configured", { inputs: (w) => JSON.parse(`{"__proto__": ${JSON.stringify(w.inputs.configured ?? null)}}`) })];
  world.inputs.configured = 1;
  assert.equal((await build(root, tasks, world)).ran, ["configured"]);
  assert.equal((await build(root, tasks, world)).ran, []);
  world.inputs.configured = 2;
  const changed = await build(root, tasks, world);
  assert.equal(changed.ran, ["configured"], "the changed input made the task stale");
  assert.equal(changed.events.flatMap((e) => (e.type === "task" ? e.entry.reasons : [])), [{ kind: "input-changed", input: "__proto__" }]);
});

test("an input or read named like Object's own properties is reported as added, not changed", async () => {
  const root = tempDir();
  const world = newWorld();
  writeFileSync(join(root, "constructor"), "content");
  let added = false;
  const tasks = [task("grows", { inputs: () => (added ? JSON.parse(`{"toString": 1}`) : {}), reads: () => (added ? ["constructor"] : []) })];
  assert.equal((await build(root, tasks, world)).ran, ["grows"]);
  added = true;
  const grown = await build(root, tasks, world);
  assert.equal(grown.events.flatMap((e) => (e.type === "task" ? e.entry.reasons : [])), [
    { kind: "input-added", input: "toString" },
    { kind: "file-added", file: "constructor" },
  ]);
});

test("an output named like Object's own properties is reported as added, not modified", async () => {
  const root = tempDir();
  const world = newWorld();
  let output: string | undefined;
  const tasks = () => [task("grows", output ? { output } : {})];
  assert.equal((await build(root, tasks(), world)).ran, ["grows"]);
  output = "constructor";
  const grown = await build(root, tasks(), world);
  assert.equal(grown.events.flatMap((e) => (e.type === "task" ? e.entry.reasons : [])), [{ kind: "output-added", file: "constructor" }]);
});

test("resultOf a typed task named like Object's own properties that did not run is undefined", async () => {
  const defineTask = taskDefiner<null>();
  const tasks = ["constructor", "toString"].map((name) =>
    defineTask({
      name,
      version: 1,
      run: (): number => {
        throw new Error(`${name} fails`);
      },
    }),
  );
  const result = await runGraph({ tasks, ctx: null, root: tempDir(), lock: { command: "test", timeoutMs: 5000 } });
  assert.not.ok(result.ok);
  for (const failed of tasks) assert.is(resultOf(result.results, failed), undefined, failed.name);
});

test.run();
