import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { acquireStageLock, runGraph, type TaskDef } from "../src/graph/index.js";
import { exited, spawnNode, waitForOutput } from "./helpers/process.js";
import { tempDir } from "./helpers/tmp.js";

const runner = fileURLToPath(new URL("./fixtures/graph-runner.js", import.meta.url));

test("a second process waits for the lock, then fails naming the holder's pid", async () => {
  const root = tempDir();
  const holder = spawnNode(runner, ["hold-lock", root]);
  await waitForOutput(holder, "locked");
  const contender = spawnNode(runner, ["take-lock", root, "300"]);
  const { code, stdout } = await exited(contender);
  assert.is(code, 3);
  assert.match(stdout, `pid ${holder.pid}`);
  assert.match(stdout, "graph-runner hold-lock");
  holder.stdin!.end();
  await exited(holder);
});

test("a waiting process gets the lock as soon as the holder releases it", async () => {
  const root = tempDir();
  const holder = spawnNode(runner, ["hold-lock", root]);
  await waitForOutput(holder, "locked");
  const contender = spawnNode(runner, ["take-lock", root, "20000"]);
  // The contender is waiting (it cannot have the lock yet); release it.
  holder.stdin!.end();
  const { code, stdout } = await exited(contender);
  assert.is(code, 0);
  assert.match(stdout, "acquired");
});

test("waiting for a held lock can be cancelled", async () => {
  const root = tempDir();
  const holder = spawnNode(runner, ["hold-lock", root]);
  await waitForOutput(holder, "locked");
  const controller = new AbortController();
  const waiting = acquireStageLock(join(root, ".lock"), { command: "test", timeoutMs: 60_000, signal: controller.signal });
  controller.abort();
  await waiting.then(
    () => assert.unreachable("the lock was granted while held"),
    (error: Error) => assert.is(error.name, "AbortError"),
  );
  holder.stdin!.end();
  await exited(holder);
});

test("a lock left by a killed process is taken over", async () => {
  const root = tempDir();
  const holder = spawnNode(runner, ["hold-lock", root]);
  await waitForOutput(holder, "locked");
  holder.kill("SIGKILL");
  await exited(holder);
  assert.ok(existsSync(join(root, ".lock")), "the dead holder's lock file is still there");
  const { code, stdout } = await exited(spawnNode(runner, ["take-lock", root, "2000"]));
  assert.is(code, 0, stdout);
});

test("after kill -9 mid-run, the next run keeps what finished and redoes the rest", async () => {
  const root = tempDir();
  const child = spawnNode(runner, ["crash-run", root]);
  await waitForOutput(child, "hanging");
  child.kill("SIGKILL");
  await exited(child);
  assert.is(readFileSync(join(root, "first.txt"), "utf8"), "first done");
  assert.not.ok(existsSync(join(root, "hang-b.txt")));

  const ran: string[] = [];
  const tasks: TaskDef<null>[] = [
    { name: "first", version: 1, writes: () => ["first.txt"], run: (run) => (ran.push("first"), run.write("first.txt", "first done"), "first") },
    {
      name: "hang",
      version: 1,
      needs: ["first"],
      writes: () => ["hang-a.txt", "hang-b.txt"],
      run: (run) => (ran.push("hang"), run.write("hang-a.txt", "new a"), run.write("hang-b.txt", "new b"), "hang"),
    },
  ];
  const result = await runGraph({ tasks, ctx: null, root, lock: { command: "test", timeoutMs: 5000 } });
  assert.ok(result.ok);
  assert.equal(ran, ["hang"]);
  assert.is(readFileSync(join(root, "hang-b.txt"), "utf8"), "new b");
  assert.is(JSON.parse(readFileSync(join(root, "state.json"), "utf8")).tasks.hang.result, "hang");
});

test("a torn state file is never trusted: it is set aside and everything runs", async () => {
  const root = tempDir();
  const ran: string[] = [];
  const tasks: TaskDef<null>[] = [{ name: "only", version: 1, writes: () => ["out.txt"], run: (run) => (ran.push("only"), run.write("out.txt", "x"), 1) }];
  await runGraph({ tasks, ctx: null, root });
  const text = readFileSync(join(root, "state.json"), "utf8");
  writeFileSync(join(root, "state.json"), text.slice(0, Math.floor(text.length / 2)));
  const warnings: string[] = [];
  const result = await runGraph({ tasks, ctx: null, root, onEvent: (e) => e.type === "warning" && warnings.push(e.message) });
  assert.ok(result.ok);
  assert.equal(ran, ["only", "only"]);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, "not valid JSON");
  assert.is(readdirSync(root).filter((f) => f.startsWith("state.json.unreadable-")).length, 1);
});

test("a state file from another version is set aside with a warning naming both versions", async () => {
  const root = tempDir();
  writeFileSync(join(root, "state.json"), JSON.stringify({ format: "bottle-graph-state", version: 99, tasks: {} }));
  const warnings: string[] = [];
  const tasks: TaskDef<null>[] = [{ name: "only", version: 1, run: () => 1 }];
  const result = await runGraph({ tasks, ctx: null, root, onEvent: (e) => e.type === "warning" && warnings.push(e.message) });
  assert.is(result.summary.ran, 1);
  assert.match(warnings[0]!, "state version 99, this bottle reads version 1");
});

test("a save by another process in between is merged, not overwritten", async () => {
  const root = tempDir();
  let bValue = "one";
  const tasks: TaskDef<null>[] = [
    { name: "a", version: 1, volatile: true, run: async () => {
      // While `a` runs, another process (no lock, like watch beside a running
      // launch) re-renders `b` and saves its state.
      bValue = "two";
      await runGraph({ tasks, ctx: null, root, targets: ["b"], lock: false });
      return Date.now();
    } },
    { name: "b", version: 1, inputs: () => ({ b: bValue }), writes: () => ["b.txt"], run: (run) => (run.write("b.txt", bValue), bValue) },
  ];
  bValue = "one";
  await runGraph({ tasks, ctx: null, root, targets: ["b"] });
  await runGraph({ tasks, ctx: null, root, targets: ["a"] });
  const state = JSON.parse(readFileSync(join(root, "state.json"), "utf8"));
  assert.is(state.tasks.b.result, "two", "b's newer record survived a's save");
  assert.ok(state.tasks.a, "a's own record was saved");
  const again = await runGraph({ tasks: tasks.filter((t) => t.name === "b"), ctx: null, root });
  assert.is(again.outcomes.b, "fresh");
});

test.run();
