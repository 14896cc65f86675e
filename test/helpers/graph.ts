// Small task graphs for engine tests. Every task counts its runs so a test
// can assert exactly which ones ran.
import type { EngineEvent, Json, RunResult, TaskDef, TaskRun } from "../../src/graph/index.js";
import { describeReason, runGraph } from "../../src/graph/index.js";

export interface World {
  /** Values tasks read as inputs, keyed by task name. */
  inputs: Record<string, Json>;
  /** What each volatile probe "finds". */
  probes: Record<string, Json>;
  runs: string[];
}

export function newWorld(): World {
  return { inputs: {}, probes: {}, runs: [] };
}

export function task(name: string, spec: Partial<TaskDef<World>> & { output?: string } = {}): TaskDef<World> {
  const { output, ...rest } = spec;
  return {
    name,
    version: 1,
    inputs: (w) => ({ value: w.inputs[name] ?? null }),
    ...(output ? { writes: () => [output] } : {}),
    run: (run: TaskRun<World>) => {
      run.ctx.runs.push(name);
      const value = { own: run.ctx.inputs[name] ?? null, needs: run.needs } as Json;
      if (output) run.write(output, JSON.stringify(value));
      return value;
    },
    ...rest,
  };
}

export function probe(name: string, spec: Partial<TaskDef<World>> = {}): TaskDef<World> {
  return {
    name,
    version: 1,
    volatile: true,
    run: (run) => {
      run.ctx.runs.push(name);
      return run.ctx.probes[name] ?? null;
    },
    ...spec,
  };
}

export function statusOf(events: EngineEvent[], task: string): string | undefined {
  const event = events.find((e) => e.type === "task" && e.task === task);
  return event && event.type === "task" ? event.status : undefined;
}

export async function build(
  root: string,
  tasks: readonly TaskDef<World>[],
  world: World,
  extra: { force?: true | string[]; concurrency?: number; targets?: string[] } = {},
): Promise<{ result: RunResult; events: EngineEvent[]; ran: string[] }> {
  world.runs = [];
  const events: EngineEvent[] = [];
  const result = await runGraph({ tasks, ctx: world, root, onEvent: (e) => events.push(e), lock: { command: "test", timeoutMs: 5000 }, ...extra });
  return { result, events, ran: [...world.runs].sort() };
}

export function reasonsOf(events: EngineEvent[], task: string): string[] {
  const event = events.find((e) => e.type === "task" && e.task === task);
  return event && event.type === "task" ? event.entry.reasons.map(describeReason) : [];
}
