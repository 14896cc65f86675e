// One run of watch mode: load the config afresh, watch what the run
// depends on, take the stage lock (waiting, and saying so), run the build
// graph, say what changed, and apply to a running bottle what it takes live.
import { isAbsolute, resolve } from "node:path";
import type { EngineEvent } from "../../graph/index.js";
import { describeReason, LOCK_FILE } from "../../graph/index.js";
import { isBottleError } from "../../lib/errors.js";
import { isInside } from "../../lib/path-checks.js";
import { join } from "node:path";
import { holdStage, runBottleGraph } from "../graph-runner.js";
import type { Session } from "../session.js";
import { worthShowing, type WatchOutput } from "./watch-output.js";
import type { WatchedFiles } from "./watched-files.js";

type TaskEvent = Extract<EngineEvent, { type: "task" }>;

/** What a run did (for tests and the benchmark: BottleWatcher.onRun). */
export interface WatchRunOutcome {
  ran: string[];
  ok: boolean;
  configError: boolean;
}

export interface WatchRunInput {
  /** Loads the config afresh and opens the bottle (a BottleError "config" on bad config). */
  open(): Promise<Session>;
  /** The session of the last good load: its files stay watched while the config is broken. */
  last: Session | undefined;
  files: WatchedFiles;
  output: WatchOutput;
  signal: AbortSignal;
  /** A file the run now depends on changed while it was loading: another run is due. */
  changedMeanwhile(): void;
}

/** Files whose content the next run depends on: the config's, and what tasks read (never the stage's own outputs). */
function dependedOn(session: Session | undefined, configFiles: readonly string[]): string[] {
  const files = new Set(configFiles);
  if (session) {
    for (const task of session.backend.graph.buildTasks) {
      for (const path of task.reads?.(session.ctx) ?? []) files.add(isAbsolute(path) ? path : resolve(session.ctx.stageDir, path));
    }
    for (const file of files) if (isInside(session.ctx.stageDir, file)) files.delete(file);
  }
  return [...files];
}

/** Runs once; resolves with the session it opened (undefined when the config did not load, or the run was stopped before). */
export async function watchRun(input: WatchRunInput): Promise<{ session: Session | undefined; outcome: WatchRunOutcome | null }> {
  const { files, output, signal } = input;
  const stamp = new Date().toTimeString().slice(0, 8);
  // The content this run reads: edits made during it trigger the queued run.
  output.runStarted(files.markRead());
  let session: Session;
  try {
    session = await input.open();
  } catch (error) {
    if (!isBottleError(error, "config")) throw error;
    output.configError(error, stamp);
    if (await files.watch(dependedOn(input.last, [error.detail.file, ...(input.last?.loaded.files ?? [])]))) input.changedMeanwhile();
    return { session: undefined, outcome: { ran: [], ok: false, configError: true } };
  }
  if (await files.watch(dependedOn(session, session.loaded.files))) input.changedMeanwhile();
  if (signal.aborted) return { session, outcome: null };

  let lock;
  try {
    const stageDir = session.ctx.stageDir;
    lock = await holdStage(stageDir, { command: "bottle watch", signal, onWait: (holder) => output.waiting(join(stageDir, LOCK_FILE), stageDir, holder, stamp) });
  } catch (error) {
    // Ctrl-C does not wait for the lock.
    if (signal.aborted) return { session, outcome: null };
    if (!isBottleError(error, "stage-busy")) throw error;
    output.busy(error.message, stamp);
    return { session, outcome: { ran: [], ok: false, configError: false } };
  }
  const events: TaskEvent[] = [];
  const result = await runBottleGraph({
    tasks: session.backend.graph.buildTasks,
    ctx: session.ctx,
    view: {
      onEvent: (event) => {
        if (event.type === "task") events.push(event);
        output.engine(event);
      },
    },
    signal,
    lock: "held",
  }).finally(() => lock.release());

  const shown = events.filter(worthShowing);
  output.ran(shown, result.interrupted, stamp);
  const ran = shown.filter((e) => e.status === "ran");
  if (result.ok && ran.length) {
    const tasks = new Map(session.backend.graph.buildTasks.map((task) => [task.name, task]));
    const changes = ran.map((e) => ({ task: e.task, reasons: e.entry.reasons.map(describeReason), liveReload: tasks.get(e.task)?.liveReload ?? null }));
    for (const line of await session.backend.applyLive(session.ctx, changes)) output.live(line, stamp);
  }
  return { session, outcome: { ran: ran.map((e) => e.task), ok: result.ok, configError: false } };
}
