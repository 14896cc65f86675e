import { test } from "uvu";
import * as assert from "uvu/assert";
import { build, newWorld, reasonsOf, statusOf, task } from "./helpers/graph.js";
import { tempDir } from "./helpers/tmp.js";
import { runGraph, type TaskDef } from "../src/graph/index.js";
import type { World } from "./helpers/graph.js";

test("a failing task blocks only its dependents; the others finish", async () => {
  const root = tempDir();
  const tasks = [
    task("ok1"),
    task("bad", { run: () => Promise.reject(new Error("boom")) }),
    task("child", { needs: ["bad"] }),
    task("grandchild", { needs: ["child"] }),
    task("ok2", { needs: ["ok1"] }),
  ];
  const { result, events } = await build(root, tasks, newWorld());
  assert.not.ok(result.ok);
  assert.equal(result.outcomes, { ok1: "ran", bad: "failed", child: "blocked", grandchild: "blocked", ok2: "ran" });
  assert.is(result.failures.bad?.message, "boom");
  assert.equal(reasonsOf(events, "child"), ["needs `bad`, which did not succeed"]);
  assert.equal(reasonsOf(events, "grandchild"), ["needs `child`, which did not succeed"]);
  assert.equal(result.summary, { ran: 2, fresh: 0, failed: 1, blocked: 2, ms: result.summary.ms });
});

test("a task that failed runs again next time and says so", async () => {
  const root = tempDir();
  let fail = true;
  const flaky = task("flaky", {
    run: () => {
      if (fail) throw new Error("network hiccup");
      return 1;
    },
  });
  await build(root, [flaky], newWorld());
  fail = false;
  const { events, result } = await build(root, [flaky], newWorld());
  assert.is(statusOf(events, "flaky"), "ran");
  assert.equal(reasonsOf(events, "flaky"), ["its last run failed (network hiccup)"]);
  assert.ok(result.ok);
});

test("no more tasks run at once than the concurrency bound, and the bound is used", async () => {
  const root = tempDir();
  const total = 8;
  let started = 0;
  let running = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  // A task holds its slot until the bound is full (or every task has
  // started), so the peak shows how many the engine let run at once.
  const slow = (name: string): TaskDef<World> =>
    task(name, {
      run: async () => {
        started++;
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((release) => {
          waiting.push(release);
          if (running === 3 || started === total) waiting.shift()!();
        });
        running--;
        if (started === total) waiting.shift()?.();
        return null;
      },
    });
  const tasks = Array.from({ length: total }, (_, i) => slow(`t${i}`));
  const { result } = await build(root, tasks, newWorld(), { concurrency: 3 });
  assert.ok(result.ok);
  assert.is(peak, 3);
});

test("a task takes a slot only after its needs are done (a bound of 1 cannot deadlock)", async () => {
  const root = tempDir();
  const tasks = [task("c", { needs: ["b"] }), task("b", { needs: ["a"] }), task("a")];
  const { result, ran } = await build(root, tasks, newWorld(), { concurrency: 1 });
  assert.ok(result.ok);
  assert.equal(ran, ["a", "b", "c"]);
});

test("an abort stops new tasks, tells the running one, and reports the rest as interrupted", async () => {
  const root = tempDir();
  const controller = new AbortController();
  let sawAbort = false;
  const tasks = [
    task("first", {
      run: (run) =>
        new Promise((_, reject) => {
          run.signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(new Error("stopped"));
          });
          controller.abort();
        }),
    }),
    task("second", { needs: ["first"] }),
  ];
  const result = await runGraph({ tasks, ctx: newWorld(), root, signal: controller.signal, lock: { command: "test", timeoutMs: 1000 } });
  assert.ok(sawAbort);
  assert.ok(result.interrupted);
  assert.is(result.failures.first?.reason, "interrupted");
  assert.is(result.outcomes.second, "blocked");
});

test("a task whose inputs cannot be computed fails with that reason", async () => {
  const root = tempDir();
  const broken = task("broken", {
    inputs: () => {
      throw new Error("no such config field");
    },
  });
  const { result } = await build(root, [broken, task("after", { needs: ["broken"] })], newWorld());
  assert.match(result.failures.broken!.message, "could not check its inputs: no such config field");
  assert.is(result.outcomes.after, "blocked");
});

test.run();
