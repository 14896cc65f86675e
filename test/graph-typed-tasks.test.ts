// Proves the engine's typed tasks: a task names the tasks it needs as values
// and its run gets their results under its own keys (whatever the needed
// tasks are called); `previous` comes only from a run of the same version;
// and a task's contract holds even when the task swallows the error: a
// write it did not declare fails it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { resultOf, runGraph, taskDefiner, type Task } from "../src/graph/index.js";
import { tempDir } from "./helpers/tmp.js";

interface Ctx {
  port: number;
  seen: unknown[];
}
const defineTask = taskDefiner<Ctx>();
const lock = { command: "test", timeoutMs: 5000 } as const;

const ports = defineTask({
  name: "ports.v1",
  version: 1,
  inputs: ({ port }) => ({ port }),
  run: ({ ctx }): { pipelock: number } => ({ pipelock: ctx.port }),
});

test("a task gets each need's result under its own key, typed as that task returns it", async () => {
  const render = defineTask({
    name: "render",
    version: 1,
    needs: { proxyPorts: ports },
    run: ({ needs }) => `listen on ${needs.proxyPorts.pipelock + 0}`,
  });
  const ctx: Ctx = { port: 4101, seen: [] };
  const result = await runGraph({ tasks: [ports, render], ctx, root: tempDir(), lock });
  assert.ok(result.ok);
  assert.is(resultOf(result.results, render), "listen on 4101");
  assert.equal(resultOf(result.results, ports), { pipelock: 4101 });
  assert.equal(render.needs, ["ports.v1"], "underneath, needs are task names");
});

test("`previous` is the last result of the same version only; a new version starts without one", async () => {
  const root = tempDir();
  const ctx: Ctx = { port: 1, seen: [] };
  const counter = (version: number): Task<Ctx, Ctx, number> =>
    defineTask({
      name: "counter",
      version,
      volatile: true,
      run: ({ ctx, previous }) => {
        ctx.seen.push(previous ?? null);
        return (previous ?? 0) + 1;
      },
    });
  await runGraph({ tasks: [counter(1)], ctx, root, lock });
  await runGraph({ tasks: [counter(1)], ctx, root, lock });
  await runGraph({ tasks: [counter(2)], ctx, root, lock });
  assert.equal(ctx.seen, [null, 1, null]);
});

test("a write outside the declared outputs fails the task even when the task catches the error", async () => {
  const sneaky = defineTask({
    name: "sneaky",
    version: 1,
    writes: () => ["declared.txt"],
    run: ({ write }) => {
      write("declared.txt", "ok");
      try {
        write("other.txt", "not declared");
      } catch {
        // swallowed
      }
      return null;
    },
  });
  const result = await runGraph({ tasks: [sneaky], ctx: { port: 1, seen: [] }, root: tempDir(), lock });
  assert.is(result.outcomes.sneaky, "failed");
  assert.is(result.failures.sneaky?.reason, "undeclared-write");
  assert.match(result.failures.sneaky?.message ?? "", "`other.txt`");
});

test("a result that is not JSON fails as bad-result, saying why", async () => {
  const odd = defineTask({ name: "odd", version: 1, run: () => Number.NaN });
  const result = await runGraph({ tasks: [odd], ctx: { port: 1, seen: [] }, root: tempDir(), lock });
  assert.is(result.failures.odd?.reason, "bad-result");
  assert.match(result.failures.odd?.message ?? "", "NaN");
});

test.run();
