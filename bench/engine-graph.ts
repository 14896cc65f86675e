// CLI: builds one synthetic graph with the engine, in a fresh process, and
// prints nothing but a one-line JSON summary.
//   node dist/bench/engine-graph.js --shape chain|fanin --size N --dir DIR
// Inputs are read from DIR/in/, the engine's stage dir is DIR/stage.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runGraph, type TaskDef } from "../src/graph/index.js";
import { isShape, outputOf, syntheticTasks, type Shape } from "./shapes.js";

interface BenchCtx {
  dir: string;
}

function digest(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\n");
  return hash.digest("hex").slice(0, 16);
}

function engineTasks(shape: Shape, size: number): TaskDef<BenchCtx>[] {
  return syntheticTasks(shape, size).map(({ name, needs, leaf }) => ({
    name,
    needs,
    version: 1,
    ...(leaf ? { reads: (ctx: BenchCtx) => [join(ctx.dir, leaf)] } : {}),
    writes: () => [outputOf(name)],
    run: (run) => {
      const parts = leaf ? [readFileSync(join(run.ctx.dir, leaf), "utf8")] : [];
      for (const need of needs) parts.push(String(run.needs[need]));
      // The result is the output's content, so a changed input changes every dependent's result.
      const content = `${name} ${digest(parts)}\n`;
      run.write(outputOf(name), content);
      return content;
    },
  }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { shape: { type: "string" }, size: { type: "string" }, dir: { type: "string" } } });
  const size = Number(values.size);
  if (!values.shape || !isShape(values.shape) || !Number.isInteger(size) || size < 2 || !values.dir) {
    process.stderr.write("usage: engine-graph --shape chain|fanin --size N (>= 2) --dir DIR\n");
    process.exit(2);
  }
  const result = await runGraph({ tasks: engineTasks(values.shape, size), ctx: { dir: values.dir }, root: join(values.dir, "stage") });
  const failures = Object.entries(result.failures).map(([task, f]) => `${task}: ${f.message}`);
  process.stdout.write(`${JSON.stringify({ ok: result.ok, ...result.summary, ...(failures.length ? { failures: failures.slice(0, 5) } : {}) })}\n`);
  if (!result.ok) process.exitCode = 1;
}

await main();
