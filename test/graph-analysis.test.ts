import { test } from "uvu";
import * as assert from "uvu/assert";
import { analyzeGraph, type TaskDef } from "../src/graph/index.js";
import { isBottleError, type BottleError } from "../src/lib/errors.js";
import { task } from "./helpers/graph.js";
import type { World } from "./helpers/graph.js";

/** The graph's problems, from the error analyzeGraph throws. */
function errorOf(tasks: TaskDef<World>[]): { message: string; problems: BottleError<"invalid-graph">["detail"]["problems"] } {
  try {
    analyzeGraph(tasks);
  } catch (error) {
    if (isBottleError(error, "invalid-graph")) return { message: error.message, problems: error.detail.problems };
    throw error;
  }
  throw new Error("expected an invalid-graph error");
}

test("a cycle is reported as the whole loop, starting at its first task by name", () => {
  const error = errorOf([task("c", { needs: ["a"] }), task("a", { needs: ["b"] }), task("b", { needs: ["c"] })]);
  assert.equal(error.problems, [{ kind: "cycle", cycle: ["a", "b", "c", "a"] }]);
  assert.match(error.message, "cycle (each needs the next): `a` → `b` → `c` → `a`");
});

test("the cycle message is the same whatever order the tasks are declared in", () => {
  const edges: [string, string[]][] = [
    ["smolfile", ["ports"]],
    ["ports", ["launch"]],
    ["launch", ["smolfile", "ports"]],
    ["preflight", []],
  ];
  const messages = new Set<string>();
  const orders = [edges, [...edges].reverse(), [edges[2]!, edges[0]!, edges[3]!, edges[1]!]];
  for (const order of orders) messages.add(errorOf(order.map(([name, needs]) => task(name, { needs }))).message);
  assert.is(messages.size, 1);
  assert.match([...messages][0]!, "`launch` → `ports` → `launch`");
});

test("separate cycles are each reported, in order of their first task", () => {
  const error = errorOf([task("z", { needs: ["y"] }), task("y", { needs: ["z"] }), task("b", { needs: ["a"] }), task("a", { needs: ["b"] })]);
  assert.equal(
    error.problems.map((p) => (p.kind === "cycle" ? p.cycle.join(">") : p.kind)),
    ["a>b>a", "y>z>y"],
  );
});

test("a task that needs itself is a cycle", () => {
  assert.equal(errorOf([task("a", { needs: ["a"] })]).problems, [{ kind: "cycle", cycle: ["a", "a"] }]);
});

test("unknown needs and duplicate names are errors that name the tasks", () => {
  const error = errorOf([task("a", { needs: ["ghost"] }), task("b"), task("b")]);
  assert.match(error.message, "two tasks are named `b`");
  assert.match(error.message, "task `a` needs `ghost`, which is not a task");
});

test("the order puts needs first; among ready tasks the earliest declared goes first", () => {
  const graph = analyzeGraph([task("late", { needs: ["early"] }), task("early"), task("other")]);
  assert.equal(graph.order, ["early", "late", "other"]);
});

test("a 10,000-task chain is analysed without overflowing the stack", () => {
  const tasks = Array.from({ length: 10_000 }, (_, i) => task(`t${i}`, { needs: i ? [`t${i - 1}`] : [] }));
  tasks[0] = task("t0", { needs: ["t9999"] });
  const error = errorOf(tasks);
  assert.is(error.problems.length, 1);
  const cycle = (error.problems[0] as { cycle: string[] }).cycle;
  assert.is(cycle.length, 10_001);
  assert.is(cycle[0], "t0");
});

test.run();
