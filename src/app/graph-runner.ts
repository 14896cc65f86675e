// Running a bottle's graph for a command: the one place that owns the
// stage lock (waiting for it, and being interrupted while waiting), the
// signals (Ctrl-C, SIGTERM: a second one forces), and the view, for build,
// launch and watch.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acquireStageLock, LOCK_FILE, runGraph, type EngineEvent, type LockHolder, type RunResult, type StageLock, type TaskDeclaration, type TaskDef } from "../graph/index.js";
import { BottleError, EXIT_INTERRUPTED, usageError } from "../lib/errors.js";

export const LOCK_TIMEOUT_MS = Number(process.env.BOTTLE_LOCK_TIMEOUT_MS ?? 30_000);

/** What shows a run: the CLI's progress view (listr2, plain lines or NDJSON). */
export interface GraphView {
  onEvent(event: EngineEvent): void;
  /** Resolves once the view has drawn everything. */
  finished(): Promise<void>;
  /** Stops drawing so another program (the agent) can have the terminal; later events print as plain lines. */
  release(): Promise<void>;
}

/** `--force` / `--force TASK`, where TASK must be one of the tasks the command runs. */
export function forceOption(value: string | true | undefined, tasks: readonly TaskDeclaration<never>[]): true | string[] | undefined {
  if (value === undefined) return undefined;
  if (value === true) return true;
  const runs = tasks.map((task) => task.name);
  if (!runs.includes(value)) throw usageError(`--force: \`${value}\` is not one of the tasks this command runs (${runs.join(", ")})`);
  return [value];
}

export interface Interrupts {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Listens for Ctrl-C and SIGTERM (and any other `signals`): the first calls
 * `first` and aborts; a second calls `again`, which by default exits at
 * once (130).
 */
export function onInterrupt(options: { signals?: readonly NodeJS.Signals[]; first(name: NodeJS.Signals): void; again?(name: NodeJS.Signals): void }): Interrupts {
  const controller = new AbortController();
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const onSignal = (name: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      options.first(name);
      controller.abort(new Error(`interrupted by ${name}`));
    } else if (options.again) options.again(name);
    else process.exit(EXIT_INTERRUPTED);
  };
  for (const name of signals) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of signals) process.off(name, onSignal);
    },
  };
}

/**
 * The stage lock, waiting while another bottle process holds it: a
 * BottleError "stage-busy" (from the engine) after LOCK_TIMEOUT_MS, or
 * "interrupted" when `signal` aborts the wait.
 */
export async function holdStage(stageDir: string, options: { command: string; signal?: AbortSignal; onWait?(holder: LockHolder | null): void }): Promise<StageLock> {
  mkdirSync(stageDir, { recursive: true, mode: 0o700 });
  try {
    return await acquireStageLock(join(stageDir, LOCK_FILE), {
      command: options.command,
      timeoutMs: LOCK_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onWait ? { onWait: options.onWait } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw new BottleError("interrupted", "interrupted while waiting for the stage lock", { cause: error });
    throw error;
  }
}

export interface GraphRunOptions<C, RC extends C> {
  tasks: readonly TaskDef<C, RC>[];
  ctx: RC & { readonly stageDir: string };
  targets?: readonly string[];
  force?: true | readonly string[] | undefined;
  view: Pick<GraphView, "onEvent">;
  signal: AbortSignal;
  /** Whose the stage lock is for the run (`bottle build`); "held" when the caller already holds it. */
  lock: { command: string } | "held";
}

/** Runs `tasks` on the stage dir: the stage lock held for the run, events to the view. */
export async function runBottleGraph<C, RC extends C>(options: GraphRunOptions<C, RC>): Promise<RunResult> {
  const { ctx, signal } = options;
  const lock = options.lock === "held" ? null : await holdStage(ctx.stageDir, { command: options.lock.command, signal });
  try {
    return await runGraph({
      tasks: options.tasks,
      ctx,
      root: ctx.stageDir,
      ...(options.targets ? { targets: options.targets } : {}),
      ...(options.force ? { force: options.force } : {}),
      onEvent: (event) => options.view.onEvent(event),
      lock: false,
      signal,
    });
  } finally {
    lock?.release();
  }
}
