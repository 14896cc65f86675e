// Running a bottle's graph for a command: the shared part of build, launch
// and resume (progress view, Ctrl-C, the stage lock, exit codes).
import type { Json, RunResult, TaskDef } from "../graph/index.js";
import { runGraph } from "../graph/index.js";
import type { BottleContext } from "../context.js";
import { BottleError, usageError } from "../lib/errors.js";
import { progressFor } from "../cli/progress.js";

export const LOCK_TIMEOUT_MS = Number(process.env.BOTTLE_LOCK_TIMEOUT_MS ?? 30_000);

/** `--force` / `--force TASK`, where TASK must be one this command runs. */
export function forceOption(value: string | true | undefined, tasks: readonly TaskDef<BottleContext>[], targets: readonly string[]): true | string[] | undefined {
  if (value === undefined) return undefined;
  if (value === true) return true;
  const runs = closureOf(tasks, targets);
  if (!runs.includes(value)) {
    throw usageError(`--force: \`${value}\` is not one of the tasks this command runs (${runs.join(", ")})`);
  }
  return [value];
}

function closureOf(tasks: readonly TaskDef<BottleContext>[], targets: readonly string[]): string[] {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const seen = new Set<string>();
  const visit = [...targets];
  for (let name = visit.pop(); name !== undefined; name = visit.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    visit.push(...(byName.get(name)?.needs ?? []));
  }
  return tasks.map((t) => t.name).filter((name) => seen.has(name));
}

export interface GraphRun {
  result: RunResult;
  results: Record<string, Json>;
}

export async function runBottleGraph(options: {
  tasks: readonly TaskDef<BottleContext>[];
  ctx: BottleContext;
  targets: readonly string[];
  force?: true | string[] | undefined;
  json: boolean;
  command: string;
  signal?: AbortSignal;
}): Promise<RunResult> {
  const progress = await progressFor({ json: options.json });
  let result: RunResult;
  try {
    result = await runGraph({
      tasks: options.tasks,
      ctx: options.ctx,
      root: options.ctx.stageDir,
      targets: options.targets,
      ...(options.force ? { force: options.force } : {}),
      onEvent: (event) => progress.onEvent(event),
      lock: { command: options.command, timeoutMs: LOCK_TIMEOUT_MS },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // Tasks' failures are in the result: what is thrown here came before any ran, the lock's wait.
    if (options.signal?.aborted) throw new BottleError("interrupted", "interrupted while waiting for the stage lock", { cause: error });
    throw error;
  }
  await progress.finished();
  return result;
}

/** An AbortSignal for Ctrl-C / SIGTERM; a second signal exits at once. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${name}: stopping (press Ctrl-C again to force)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
