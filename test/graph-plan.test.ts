import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportGraph, explainPlan, planGraph, type EngineEvent } from "../src/graph/index.js";
import { jsonLine } from "../src/graph/views/json.js";
import { plainLine } from "../src/graph/views/plain.js";
import { build, newWorld, probe, task } from "./helpers/graph.js";
import { tempDir } from "./helpers/tmp.js";

const tasks = () => [probe("ports"), task("subnet"), task("smolfile", { needs: ["ports", "subnet"], output: "smolfile.toml" })];

test("before any run, the plan says every task will run because it never ran", () => {
  const plan = planGraph({ tasks: tasks(), ctx: newWorld(), root: tempDir() });
  assert.equal(
    plan.entries.map((e) => [e.task, e.status]),
    [
      ["ports", "run"],
      ["subnet", "run"],
      ["smolfile", "run"],
    ],
  );
  assert.match(explainPlan(plan, "smolfile"), "smolfile: will run\n  - never ran");
});

test("a dry run after a build predicts early cutoff below a volatile task and says what it depends on", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, tasks(), world);
  const plan = planGraph({ tasks: tasks(), ctx: world, root });
  const smolfile = plan.entries.find((e) => e.task === "smolfile")!;
  assert.is(smolfile.status, "fresh");
  assert.equal(smolfile.pendingNeeds, ["ports"]);
  assert.is(
    explainPlan(plan, "smolfile"),
    "smolfile: fresh\n  stays fresh only if `ports` returns the same result as last time (it runs first)",
  );
  assert.match(explainPlan(plan, "ports"), "ports (volatile): will run\n  - volatile: re-checked every run");
});

test("the run does what the dry run said; where the plan hinged on a need, the run names it", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, tasks(), world);
  world.inputs.subnet = "10.0.0.0/8";
  const plan = planGraph({ tasks: tasks(), ctx: world, root });
  const { events } = await build(root, tasks(), world);
  for (const entry of plan.entries) {
    const ran = events.find((e): e is Extract<EngineEvent, { type: "task" }> => e.type === "task" && e.task === entry.task)!;
    if (entry.pendingNeeds.length === 0) assert.equal(ran.entry.reasons, entry.reasons, entry.task);
    else for (const reason of ran.entry.reasons) assert.ok(reason.kind === "need-changed" && entry.pendingNeeds.includes(reason.need), entry.task);
  }
  const smolfile = plan.entries.find((e) => e.task === "smolfile")!;
  assert.equal(smolfile.pendingNeeds, ["ports", "subnet"]);
});

test("a dry run reads but never writes: no state file, no outputs, no lock", () => {
  const root = tempDir();
  planGraph({ tasks: tasks(), ctx: newWorld(), root });
  assert.equal(readdirSync(root), []);
});

test("explain names the changed file, the changed input and the need whose result changed", async () => {
  const root = tempDir();
  const src = join(tempDir(), "gvforwarder");
  writeFileSync(src, "v1");
  const world = newWorld();
  const graph = [task("copy", { reads: () => [src] }), task("env"), task("render", { needs: ["env"] })];
  await build(root, graph, world);
  writeFileSync(src, "v2");
  world.inputs.env = "changed";
  const text = explainPlan(planGraph({ tasks: graph, ctx: world, root }));
  assert.match(text, `copy: will run\n  - file \`${src}\` changed`);
  assert.match(text, "env: will run\n  - input `value` changed");
  // render's need runs first; the plan cannot know env's new result yet.
  assert.match(text, "render: fresh\n  stays fresh only if `env` returns the same result");
});

test("graph export: json has nodes and [from, to] edges; text, mermaid and dot name every edge", () => {
  const plan = planGraph({ tasks: tasks(), ctx: newWorld(), root: tempDir() });
  const json = JSON.parse(exportGraph(plan, "json")) as { nodes: { id: string; volatile: boolean }[]; edges: string[][] };
  assert.equal(json.nodes.map((n) => n.id), ["ports", "subnet", "smolfile"]);
  assert.is(json.nodes[0]!.volatile, true);
  assert.equal(json.edges, [
    ["ports", "smolfile"],
    ["subnet", "smolfile"],
  ]);
  assert.match(exportGraph(plan, "text"), "smolfile: will run  ← ports, subnet");
  const mermaid = exportGraph(plan, "mermaid");
  assert.match(mermaid, /^graph LR/);
  assert.match(mermaid, "t0 --> t2");
  assert.match(exportGraph(plan, "dot"), '"subnet" -> "smolfile";');
});

test("the NDJSON view prints the task and summary events with exactly the documented fields", async () => {
  const root = tempDir();
  const { events } = await build(root, tasks(), newWorld());
  const lines = events.map(jsonLine).filter((l): l is string => l !== null).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.is(lines.length, 4);
  assert.equal(Object.keys(lines[0]!), ["event", "task", "status", "volatile", "changed", "reasons", "ms"]);
  assert.equal(Object.keys(lines[3]!), ["event", "ran", "fresh", "failed", "blocked", "ms"]);
  assert.equal(lines[0]!.reasons, ["volatile: re-checked every run", "never ran"]);
});

test("the plain view prints one line per finished task with its reasons", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, tasks(), world);
  world.probes.ports = { pipelock: 1 };
  const { events } = await build(root, tasks(), world);
  const lines = events.map(plainLine).filter((l): l is string => l !== null);
  assert.match(lines.join("\n"), /ran {6}smolfile \(needs `ports`, whose result changed\) \d+ ms/);
  assert.match(lines.join("\n"), "fresh    subnet");
  assert.match(lines[lines.length - 1]!, /^done: 2 ran, 1 fresh, 0 failed, 0 blocked in \d+ ms$/);
});

test.run();
