// Running a bottle's graph for a command: the shared part of build, launch
// and resume (progress view, Ctrl-C, the stage lock, exit codes).
import type { Json, RunResult, TaskDef } from "../graph/index.js";
import { LockTimeoutError, runGraph } from "../graph/index.js";
import type { BottleContext } from "../context.js";
import { BottleError, usageError } from "../errors.js";
import { progressFor } from "./progress.js";

export const LOCK_TIMEOUT_MS = Number(process.env.BOTTLE_LOCK_TIMEOUT_MS ?? 30_000);

export function forceOption(value: string | true | undefined, tasks: readonly TaskDef<BottleContext>[]): true | string[] | undefined {
  if (value === undefined) return undefined;
  if (value === true) return true;
  if (!tasks.some((t) => t.name === value)) {
    throw usageError(`--force: there is no task \`${value}\`; tasks: ${tasks.map((t) => t.name).join(", ")}`);
  }
  return [value];
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
  try {
    const result = await runGraph({
      tasks: options.tasks,
      ctx: options.ctx,
      root: options.ctx.stageDir,
      targets: options.targets,
      ...(options.force ? { force: options.force } : {}),
      onEvent: (event) => progress.onEvent(event),
      lock: { command: options.command, timeoutMs: LOCK_TIMEOUT_MS },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await progress.finished();
    return result;
  } catch (error) {
    if (error instanceof LockTimeoutError) throw new BottleError(error.message, { cause: error });
    throw error;
  }
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
