// A task's name is only a key: names that are also the names of Object's
// own properties (`__proto__`, `constructor`, `toString`) run, are recorded
// and are fresh the next time like any other.
import { test } from "uvu";
import * as assert from "uvu/assert";
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

test.run();
