// The executor: decides each task just in time (when its needs are done,
// so their actual results feed its key), runs what is not fresh with
// bounded concurrency (execute.ts), records results as it goes (record.ts)
// and emits events. It never prints.
import { availableParallelism } from "node:os";
import { removeFileQuietly } from "../lib/atomic-write.js";
import { errorMessage } from "../lib/errors.js";
import type { Graph } from "./analyze.js";
import type { EngineEvent, Summary, TaskStatus } from "./events.js";
import { executeTask } from "./execute.js";
import { keyedRecord, type Json } from "./json.js";
import { displayPath, observeTask, type TaskFacts } from "./observe.js";
import { blockedEntry, freshEntry, planTask, runEntry, type PlanEntry } from "./plan.js";
import type { Reason } from "./reasons.js";
import { recordFailure, recordRun } from "./record.js";
import { writeStamp, type Stamp, type StampLine, type StampTask } from "./stamp.js";
import { loadState, StateWriter, type GraphState, type LoadedState } from "./state.js";
import type { TaskDef, TaskFailure } from "./task.js";

export interface ExecutorOptions<C, RC extends C> {
  graph: Graph<TaskDef<C, RC>>;
  /** The selected tasks, needs first. */
  order: readonly string[];
  ctx: RC;
  root: string;
  stateFile: string;
  stampFile: string;
  /** The stamp, when it summarises the state file as it is; tasks it shows fresh are decided without reading the state. */
  stamp: Stamp | null;
  /** Tasks whose stamp lines were found to hold already (fresh-run.ts). */
  verified: ReadonlySet<string>;
  /** graphKey of the graph and selection, for the stamp this run writes. */
  graphKey: string;
  /** The state, when the caller has read it already; otherwise it is read when a task first needs it. */
  state: LoadedState | undefined;
  force: true | readonly string[] | undefined;
  concurrency: number | undefined;
  signal: AbortSignal | undefined;
  /** No listener: events for the many fresh tasks of a no-op run are not even built. */
  onEvent: ((event: EngineEvent) => void) | undefined;
}

/** What a run did: each selected task's status, the results of those that ran or were fresh, the failures. */
export interface RunResult {
  ok: boolean;
  interrupted: boolean;
  outcomes: Record<string, TaskStatus>;
  /** Results of every task that ran or was fresh. */
  results: Record<string, Json>;
  entries: PlanEntry[];
  failures: Record<string, TaskFailure>;
  summary: Summary;
  /** The state file was read: false when the stamp showed every task fresh. */
  stateRead: boolean;
}

/** What planning decided for a task that must run. */
interface Decided {
  entry: PlanEntry;
  key: string;
  facts: TaskFacts;
  needHashes: Record<string, string>;
}

/** The state once read, its writer, and whether the stamp read at the start describes it. */
interface ReadState {
  state: GraphState;
  writer: StateWriter;
  stampStillHolds: boolean;
}

/** What the settled tasks left: each one's status and plan entry, its result (and the result's hash) or its failure. */
class Settled {
  readonly outcomes = keyedRecord<TaskStatus>();
  readonly results = keyedRecord<Json>();
  readonly resultHashes = new Map<string, string>();
  readonly entries = new Map<string, PlanEntry>();
  readonly failures = keyedRecord<TaskFailure>();
}

export function isForced(force: true | readonly string[] | undefined, task: string): boolean {
  return force === true || (Array.isArray(force) && force.includes(task));
}

export class Executor<C, RC extends C> {
  private readonly selected: Set<string>;
  /** Needs each task still waits for. */
  private readonly waiting = new Map<string, number>();
  /** Tasks whose needs are done, in the order they became ready; decided up to `readyAt`. */
  private readonly ready: string[] = [];
  private readyAt = 0;
  private readonly runQueue: { name: string; decided: Decided }[] = [];
  private running = 0;
  private remaining: number;
  private readonly concurrency: number;
  private readonly signal: AbortSignal;
  private readonly emit: (event: EngineEvent) => void;
  private loaded: ReadState | undefined;
  /** Tasks decided fresh from their stamp line, with the line. */
  private readonly stampFresh = new Map<string, StampLine>();
  private readonly needHash = (need: string): string | undefined => this.settled.resultHashes.get(need);
  private readonly settled = new Settled();
  private finish!: () => void;

  constructor(private readonly options: ExecutorOptions<C, RC>) {
    this.selected = new Set(options.order);
    this.remaining = options.order.length;
    this.concurrency = Math.max(1, options.concurrency ?? availableParallelism());
    this.signal = options.signal ?? new AbortController().signal;
    this.emit = options.onEvent ?? (() => {});
    if (options.state) this.useState(options.state);
  }

  private useState(loaded: LoadedState): ReadState {
    if (loaded.warning) this.emit({ type: "warning", message: loaded.warning });
    const writer = new StateWriter(this.options.stateFile, loaded.state, loaded.disk);
    // The stamp names its state as StateWriter.saved does.
    this.loaded = { state: loaded.state, writer, stampStillHolds: this.options.stamp?.state === writer.saved };
    return this.loaded;
  }

  /** The state and its writer, read on first use: a run whose every task is fresh by its stamp never reads them. */
  private get read(): ReadState {
    return this.loaded ?? this.useState(loadState(this.options.stateFile));
  }

  private get state(): GraphState {
    return this.read.state;
  }

  private get writer(): StateWriter {
    return this.read.writer;
  }

  async run(): Promise<RunResult> {
    const { graph, order } = this.options;
    this.emit({
      type: "begin",
      tasks: order.map((task) => {
        const def = graph.tasks.get(task)!;
        return { task, description: def.description, needs: graph.needs.get(task)!, volatile: def.volatile ?? false };
      }),
    });
    const finished = new Promise<void>((resolve) => (this.finish = resolve));
    for (const name of order) {
      const count = graph.needs.get(name)!.length;
      this.waiting.set(name, count);
      if (count === 0) this.ready.push(name);
    }
    const onAbort = (): void => this.pump();
    this.signal.addEventListener("abort", onAbort);
    this.pump();
    await finished;
    this.signal.removeEventListener("abort", onAbort);
    if (this.loaded) this.saveState(this.loaded);

    const counts: Record<TaskStatus, number> = { ran: 0, fresh: 0, failed: 0, blocked: 0 };
    for (const status of Object.values(this.settled.outcomes)) counts[status]++;
    const summary: Summary = { ...counts, ms: 0 };
    return {
      ok: summary.failed === 0 && summary.blocked === 0,
      interrupted: this.signal.aborted,
      // Plain objects for callers; spreading copies a `__proto__` key as an own property.
      outcomes: { ...this.settled.outcomes },
      results: { ...this.settled.results },
      entries: order.map((name) => this.settled.entries.get(name)!),
      failures: { ...this.settled.failures },
      summary,
      stateRead: this.loaded !== undefined,
    };
  }

  /** Saves what is pending, then a stamp of the saved state for the next run. */
  private saveState({ state, writer, stampStillHolds }: ReadState): void {
    // A state saved before states had ids gets one, so a stamp can name it.
    if (state.id === "") writer.write();
    else writer.flush();
    const { graph, order, ctx, root, stampFile } = this.options;
    // A line read at the start still describes its task's record if that record was not replaced since.
    const stamp = stampStillHolds && !writer.merged ? this.options.stamp : null;
    const tasks: [string, StampTask<C>][] = [];
    for (const name of order) {
      const status = this.settled.outcomes[name];
      if (status !== "fresh" && status !== "ran") continue;
      const line = this.stampFresh.get(name);
      tasks.push([name, { def: graph.tasks.get(name)!, needs: graph.needs.get(name)!, unchanged: stamp && line ? { stamp, line } : undefined }]);
    }
    writeStamp(stampFile, this.options.stamp, state, writer.saved, ctx, root, { graphKey: this.options.graphKey, selected: order.length }, tasks);
  }

  /** Decides every ready task, then starts runs while slots are free. */
  private pump(): void {
    while (this.readyAt < this.ready.length) this.decide(this.ready[this.readyAt++]!);
    if (this.signal.aborted) {
      for (const { name } of this.runQueue.splice(0)) this.settleBlocked(name, [{ kind: "interrupted" }]);
      while (this.readyAt < this.ready.length) this.decide(this.ready[this.readyAt++]!);
    }
    while (this.running < this.concurrency && this.runQueue.length) {
      const next = this.runQueue.shift()!;
      this.running++;
      void this.execute(next.name, next.decided).then(() => {
        this.running--;
        this.pump();
      });
    }
    if (this.remaining === 0) this.finish();
  }

  private settle(name: string, status: TaskStatus, entry: PlanEntry): void {
    this.settled.entries.set(name, entry);
    this.settled.outcomes[name] = status;
    this.remaining--;
    for (const dependent of this.options.graph.dependents.get(name)!) {
      if (!this.selected.has(dependent)) continue;
      const left = this.waiting.get(dependent)! - 1;
      this.waiting.set(dependent, left);
      if (left === 0) this.ready.push(dependent);
    }
  }

  private basics(name: string): { task: string; description: string | undefined; needs: readonly string[]; volatile: boolean } {
    const def = this.options.graph.tasks.get(name)!;
    return { task: name, description: def.description, needs: this.options.graph.needs.get(name)!, volatile: def.volatile ?? false };
  }

  private settleBlocked(name: string, reasons: Reason[]): void {
    const entry = blockedEntry({ ...this.basics(name), reasons });
    this.emit({ type: "task", task: name, status: "blocked", volatile: entry.volatile, changed: false, entry, ms: 0 });
    this.settle(name, "blocked", entry);
  }

  private settleFailed(name: string, entry: PlanEntry, failure: TaskFailure, ms: number): void {
    this.settled.failures[name] = failure;
    recordFailure(this.state, name, failure.message);
    this.writer.changed(name);
    this.emit({ type: "task", task: name, status: "failed", volatile: entry.volatile, changed: false, entry, ms, failure });
    this.settle(name, "failed", entry);
  }

  /** Settles `name` as fresh if its stamp line holds (or held when fresh-run.ts checked it). */
  private freshByStamp(name: string): boolean {
    const { graph, root, ctx, stamp, verified, force } = this.options;
    const line = stamp?.lines.get(name);
    const def = graph.tasks.get(name)!;
    const needs = graph.needs.get(name)!;
    if (!stamp || !line || def.volatile || isForced(force, name)) return false;
    if (!verified.has(name) && !stamp.holds(line, def, ctx, root, needs, this.needHash)) return false;
    const entry = freshEntry(this.basics(name));
    this.stampFresh.set(name, line);
    this.settled.results[name] = stamp.resultsByTask()[name]!;
    this.settled.resultHashes.set(name, stamp.resultHash(line));
    if (this.options.onEvent) this.emit({ type: "task", task: name, status: "fresh", volatile: false, changed: false, entry, ms: 0 });
    this.settle(name, "fresh", entry);
    return true;
  }

  /** Fresh (settled now), blocked, or queued to run. */
  private decide(name: string): void {
    const { graph, root, ctx } = this.options;
    const def = graph.tasks.get(name)!;
    const needs = graph.needs.get(name)!;
    const unmet = needs.filter((need) => this.settled.outcomes[need] === "failed" || this.settled.outcomes[need] === "blocked");
    if (unmet.length) return this.settleBlocked(name, unmet.map((need) => ({ kind: "blocked-by", need })));
    if (this.signal.aborted) return this.settleBlocked(name, [{ kind: "interrupted" }]);

    if (this.freshByStamp(name)) return;

    const state = this.state;
    const record = state.tasks.get(name);
    let facts: TaskFacts;
    try {
      facts = observeTask(def, ctx, root, record, state.files);
    } catch (error) {
      return this.settleFailed(name, runEntry(this.basics(name)), { reason: "threw", message: `could not check its inputs: ${errorMessage(error)}`, cause: error }, 0);
    }
    if (facts.refreshed) this.writer.changed(name);
    const needHashes = keyedRecord<string>();
    for (const need of needs) needHashes[need] = this.settled.resultHashes.get(need)!;
    const { entry, key } = planTask({
      task: name,
      description: def.description,
      version: def.version,
      volatile: def.volatile ?? false,
      forced: isForced(this.options.force, name),
      needs,
      record,
      lastFailure: state.failures[name]?.message,
      facts,
      needHashes,
    });
    if (entry.status === "fresh") {
      this.settled.results[name] = record!.result;
      this.settled.resultHashes.set(name, record!.resultHash);
      if (this.options.onEvent) this.emit({ type: "task", task: name, status: "fresh", volatile: entry.volatile, changed: false, entry, ms: 0 });
      return this.settle(name, "fresh", entry);
    }
    this.runQueue.push({ name, decided: { entry, key, facts, needHashes } });
  }

  private async execute(name: string, { entry, key, facts, needHashes }: Decided): Promise<void> {
    const { graph, root } = this.options;
    const state = this.state;
    const def: TaskDef<C, RC> = graph.tasks.get(name)!;
    const previous = state.tasks.get(name);
    const started = performance.now();
    this.emit({ type: "start", task: name, entry });

    // Outputs the task no longer declares are removed, so nothing stale lingers.
    for (const file of Object.keys(previous?.outputs ?? {})) {
      if (!(file in facts.outputs)) removeFileQuietly(displayPath(root, file).absolute);
    }
    const execution = await executeTask({
      def,
      ctx: this.options.ctx,
      root,
      outputs: new Set(Object.keys(facts.outputs)),
      needs: Object.fromEntries(graph.needs.get(name)!.map((need) => [need, this.settled.results[need]!])),
      // Only a result of this version of the task: another version's may have another shape.
      previous: previous?.version === def.version ? previous.result : undefined,
      signal: this.signal,
      log: (message) => this.emit({ type: "log", task: name, message }),
    });
    const ms = Math.round(performance.now() - started);
    if (!execution.ok) return this.settleFailed(name, entry, execution.failure, ms);

    const recorded = recordRun(state, root, { task: name, version: def.version, key, facts, needHashes, value: execution.value, written: execution.written, ms });
    if (recorded.differs) this.writer.changed(name);
    this.settled.results[name] = execution.value;
    this.settled.resultHashes.set(name, recorded.record.resultHash);
    this.emit({
      type: "task",
      task: name,
      status: "ran",
      volatile: entry.volatile,
      changed: recorded.changed,
      entry,
      ms,
      ...(recorded.untrusted ? { note: `file \`${recorded.untrusted}\` changed while it ran; it will run again next time` } : {}),
    });
    this.settle(name, "ran", entry);
  }
}
