// The executor: decides each task just in time (when its needs are done, so
// their actual results feed its key), runs what is not fresh with bounded
// concurrency, records results as it goes and emits events. It never prints.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { removeFileQuietly } from "../lib/atomic-write.js";
import { errorMessage } from "../lib/errors.js";
import { analyzeGraph, closure, type Graph } from "./analyze.js";
import type { EngineEvent, Summary, TaskStatus } from "./events.js";
import { observeFile, stampFromStat, type FileStamp } from "./files.js";
import { acquireStageLock } from "./lock.js";
import { canonicalJson, hashJson, type Json } from "./json.js";
import { displayPath, observeTask, type TaskFacts } from "./observe.js";
import { blockedEntry, planTask, runEntry, type Plan, type PlanEntry } from "./plan.js";
import type { Reason } from "./reasons.js";
import { loadState, StateWriter, type GraphState, type TaskRecord } from "./state.js";
import type { FailureReason, TaskDef, TaskFailure, TaskRun, WriteOptions } from "./task.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { sha256Base64url } from "../lib/hash.js";

export const STATE_FILE = "state.json";
export const LOCK_FILE = ".lock";

export interface GraphOptions<C> {
  tasks: readonly TaskDef<C>[];
  ctx: C;
  /** The stage dir: outputs, state.json and the lock live here. */
  root: string;
  /** Run only these tasks and what they need (default: all). */
  targets?: readonly string[];
  /** Run these tasks even if fresh (`true`: all of them). */
  force?: true | readonly string[];
}

export interface RunOptions<C> extends GraphOptions<C> {
  /** Tasks running at once (default: the number of cores). */
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /** Stage lock; `false` when the caller already holds it. */
  lock?: { command: string; timeoutMs: number } | false;
}

export interface RunResult {
  ok: boolean;
  interrupted: boolean;
  outcomes: Record<string, TaskStatus>;
  /** Results of every task that ran or was fresh. */
  results: Record<string, Json>;
  entries: PlanEntry[];
  failures: Record<string, TaskFailure>;
  summary: Summary;
}

class TaskError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
  }
}

function isForced(force: GraphOptions<unknown>["force"], task: string): boolean {
  return force === true || (Array.isArray(force) && force.includes(task));
}

function select<C>(graph: Graph<C>, targets: readonly string[] | undefined): string[] {
  if (!targets) return [...graph.order];
  const wanted = closure(graph, targets);
  return graph.order.filter((name) => wanted.has(name));
}

/** The plan a dry run, `graph` and `explain` show. Reads only. */
export function planGraph<C>(options: GraphOptions<C>): Plan {
  const graph = analyzeGraph(options.tasks);
  const order = select(graph, options.targets);
  const { state, warning } = loadState(join(options.root, STATE_FILE), { setAside: false });
  const predicted = new Map<string, string>();
  const entries = new Map<string, PlanEntry>();
  for (const name of order) {
    const def = graph.tasks.get(name)!;
    const needs = graph.needs.get(name)!;
    const record = state.tasks[name];
    const facts = observeTask(def, options.ctx, options.root, record ? structuredClone(record) : undefined, { ...state.files });
    const pendingNeeds = needs.filter((need) => {
      const entry = entries.get(need)!;
      return entry.status === "run" || entry.pendingNeeds.length > 0;
    });
    const { entry } = planTask({
      task: name,
      description: def.description,
      version: def.version,
      volatile: def.volatile ?? false,
      forced: isForced(options.force, name),
      needs,
      record,
      lastFailure: state.failures[name]?.message,
      facts,
      needHashes: Object.fromEntries(needs.map((need) => [need, predicted.get(need) ?? ""])),
      pendingNeeds,
    });
    entries.set(name, entry);
    // Assume a task that runs returns what it returned last time (early cutoff).
    predicted.set(name, record?.resultHash ?? `unknown:${name}`);
  }
  return Object.freeze({ entries: Object.freeze([...entries.values()]), warnings: Object.freeze(warning ? [warning] : []) });
}

export async function runGraph<C>(options: RunOptions<C>): Promise<RunResult> {
  const started = performance.now();
  const graph = analyzeGraph(options.tasks);
  const order = select(graph, options.targets);
  const emit = options.onEvent ?? (() => {});
  const root = options.root;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const lockOptions = options.lock === false ? null : (options.lock ?? { command: "bottle", timeoutMs: 30_000 });
  const lock = lockOptions ? await acquireStageLock(join(root, LOCK_FILE), { ...lockOptions, ...(options.signal ? { signal: options.signal } : {}) }) : null;
  try {
    const loaded = loadState(join(root, STATE_FILE));
    if (loaded.warning) emit({ type: "warning", message: loaded.warning });
    const executor = new Executor(graph, order, options, loaded.state, emit);
    const result = await executor.run();
    result.summary.ms = Math.round(performance.now() - started);
    emit({ type: "summary", ...result.summary });
    return result;
  } finally {
    lock?.release();
  }
}

interface Decided {
  entry: PlanEntry;
  key: string;
  facts: TaskFacts;
  needHashes: Record<string, string>;
}

class Executor<C> {
  private readonly selected: Set<string>;
  private readonly waiting = new Map<string, number>();
  private readonly outcomes: Record<string, TaskStatus> = {};
  private readonly counts: Record<TaskStatus, number> = { ran: 0, fresh: 0, failed: 0, blocked: 0 };
  private readonly results: Record<string, Json> = {};
  private readonly resultHashes = new Map<string, string>();
  private readonly entries = new Map<string, PlanEntry>();
  private readonly failures: Record<string, TaskFailure> = {};
  private readonly ready: string[] = [];
  private readyAt = 0;
  private readonly runQueue: { name: string; decided: Decided }[] = [];
  private active = 0;
  private remaining: number;
  private readonly concurrency: number;
  private readonly writer: StateWriter;
  private readonly signal: AbortSignal;
  /** No listener: skip building events for the many fresh tasks of a no-op run. */
  private readonly listening: boolean;
  private finish!: () => void;

  constructor(
    private readonly graph: Graph<C>,
    private readonly order: readonly string[],
    private readonly options: RunOptions<C>,
    private readonly state: GraphState,
    private readonly emit: (event: EngineEvent) => void,
  ) {
    this.selected = new Set(order);
    this.remaining = order.length;
    this.concurrency = Math.max(1, options.concurrency ?? availableParallelism());
    this.writer = new StateWriter(join(options.root, STATE_FILE), state);
    this.signal = options.signal ?? new AbortController().signal;
    this.listening = options.onEvent !== undefined;
  }

  async run(): Promise<RunResult> {
    this.emit({
      type: "begin",
      tasks: this.order.map((task) => {
        const def = this.graph.tasks.get(task)!;
        return { task, description: def.description, needs: this.graph.needs.get(task)!, volatile: def.volatile ?? false };
      }),
    });
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    for (const name of this.order) {
      const count = this.graph.needs.get(name)!.length;
      this.waiting.set(name, count);
      if (count === 0) this.ready.push(name);
    }
    const onAbort = (): void => this.pump();
    this.signal.addEventListener("abort", onAbort);
    this.pump();
    await done;
    this.signal.removeEventListener("abort", onAbort);
    this.writer.flush();

    const summary: Summary = { ...this.counts, ms: 0 };
    return {
      ok: summary.failed === 0 && summary.blocked === 0,
      interrupted: this.signal.aborted,
      outcomes: this.outcomes,
      results: this.results,
      entries: this.order.map((name) => this.entries.get(name)!),
      failures: this.failures,
      summary,
    };
  }

  /** Decides every ready task, then starts runs while slots are free. */
  private pump(): void {
    while (this.readyAt < this.ready.length) this.decide(this.ready[this.readyAt++]!);
    if (this.signal.aborted) {
      for (const { name, decided } of this.runQueue.splice(0)) {
        this.settleBlocked(name, [{ kind: "interrupted" }]);
      }
      while (this.readyAt < this.ready.length) this.decide(this.ready[this.readyAt++]!);
    }
    while (this.active < this.concurrency && this.runQueue.length) {
      const next = this.runQueue.shift()!;
      this.active++;
      void this.execute(next.name, next.decided).then(() => {
        this.active--;
        this.pump();
      });
    }
    if (this.remaining === 0) this.finish();
  }

  private settle(name: string, status: TaskStatus): void {
    this.outcomes[name] = status;
    this.counts[status]++;
    this.remaining--;
    for (const dependent of this.graph.dependents.get(name)!) {
      if (!this.selected.has(dependent)) continue;
      const left = this.waiting.get(dependent)! - 1;
      this.waiting.set(dependent, left);
      if (left === 0) this.ready.push(dependent);
    }
  }

  private settleBlocked(name: string, reasons: Reason[]): void {
    const def = this.graph.tasks.get(name)!;
    const blocked = blockedEntry({ task: name, description: def.description, needs: this.graph.needs.get(name)!, volatile: def.volatile ?? false, reasons });
    this.entries.set(name, blocked);
    this.emit({ type: "task", task: name, status: "blocked", volatile: blocked.volatile, changed: false, entry: blocked, ms: 0 });
    this.settle(name, "blocked");
  }

  private fail(name: string, entry: PlanEntry, failure: TaskFailure, ms: number): void {
    this.failures[name] = failure;
    delete this.state.tasks[name];
    this.state.failures[name] = { message: failure.message, at: Date.now() };
    this.writer.changed(name);
    this.entries.set(name, entry);
    this.emit({ type: "task", task: name, status: "failed", volatile: entry.volatile, changed: false, entry, ms, failure });
    this.settle(name, "failed");
  }

  private decide(name: string): void {
    const def = this.graph.tasks.get(name)!;
    const needs = this.graph.needs.get(name)!;
    let unmet: string[] | undefined;
    for (const need of needs) {
      const outcome = this.outcomes[need];
      if (outcome === "failed" || outcome === "blocked") (unmet ??= []).push(need);
    }
    if (unmet) return this.settleBlocked(name, unmet.map((need) => ({ kind: "blocked-by", need })));
    if (this.signal.aborted) return this.settleBlocked(name, [{ kind: "interrupted" }]);

    const record = this.state.tasks[name];
    let facts: TaskFacts;
    try {
      facts = observeTask(def, this.options.ctx, this.options.root, record, this.state.files);
    } catch (error) {
      const entry = runEntry({ task: name, description: def.description, needs, volatile: def.volatile ?? false });
      return this.fail(name, entry, { reason: "threw", message: `could not check its inputs: ${errorMessage(error)}`, cause: error }, 0);
    }
    if (facts.refreshed) this.writer.changed(name);
    const needHashes: Record<string, string> = {};
    for (const need of needs) needHashes[need] = this.resultHashes.get(need)!;
    const { entry, key } = planTask({
      task: name,
      description: def.description,
      version: def.version,
      volatile: def.volatile ?? false,
      forced: isForced(this.options.force, name),
      needs,
      record,
      lastFailure: this.state.failures[name]?.message,
      facts,
      needHashes,
    });
    if (entry.status === "fresh") {
      this.entries.set(name, entry);
      this.results[name] = record!.result;
      this.resultHashes.set(name, record!.resultHash);
      if (this.listening) this.emit({ type: "task", task: name, status: "fresh", volatile: entry.volatile, changed: false, entry, ms: 0 });
      return this.settle(name, "fresh");
    }
    this.runQueue.push({ name, decided: { entry, key, facts, needHashes } });
  }

  private async execute(name: string, decided: Decided): Promise<void> {
    const def = this.graph.tasks.get(name)!;
    const { entry, key, facts, needHashes } = decided;
    const root = this.options.root;
    const previous = this.state.tasks[name];
    const started = performance.now();
    this.emit({ type: "start", task: name, entry });

    // Outputs the task no longer declares are removed, so nothing stale lingers.
    for (const file of Object.keys(previous?.outputs ?? {})) {
      if (!(file in facts.outputs)) removeFileQuietly(displayPath(root, file).absolute);
    }

    const written = new Map<string, string>();
    const write = (path: string, content: string | Uint8Array, options?: WriteOptions): void => {
      const { display, absolute } = displayPath(root, path);
      if (!(display in facts.outputs)) {
        throw new TaskError("undeclared-write", `wrote \`${display}\`, which it does not declare among its outputs`);
      }
      writeFileAtomic(absolute, content, options?.mode ?? 0o600);
      written.set(display, sha256Base64url(content));
    };
    const needs = Object.fromEntries(this.graph.needs.get(name)!.map((need) => [need, this.results[need]!]));
    const api: TaskRun<C> = {
      ctx: this.options.ctx,
      needs,
      previous: previous?.result,
      signal: this.signal,
      write,
      copy: (from, path, options) => write(path, readFileSync(from), options),
      path: (relative) => displayPath(root, relative).absolute,
      log: (message) => this.emit({ type: "log", task: name, message }),
    };

    let value: Json;
    try {
      const returned = await def.run(api);
      value = returned === undefined ? null : returned;
      canonicalJson(value);
      const missing = Object.keys(facts.outputs).filter((file) => !written.has(file));
      if (missing.length) throw new TaskError("missing-output", `did not write its declared output${missing.length > 1 ? "s" : ""} ${missing.map((f) => `\`${f}\``).join(", ")}`);
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const reason: FailureReason = error instanceof TaskError ? error.reason : this.signal.aborted ? "interrupted" : error instanceof TypeError && /fingerprint/.test(error.message) ? "bad-result" : "threw";
      return this.fail(name, entry, { reason, message: errorMessage(error), cause: error }, ms);
    }

    const outputs: Record<string, FileStamp> = {};
    for (const [file, hash] of written) outputs[file] = stampFromStat(hash, statSync(displayPath(root, file).absolute));

    // A read file that changed while the task ran: its result may mix old and
    // new content, so it is kept but not trusted as fresh.
    let untrusted: string | undefined;
    for (const [file, hash] of Object.entries(facts.reads)) {
      const now = observeFile(facts.paths[file]!, this.state.files[facts.paths[file]!]);
      if ((now.exists ? now.stamp.hash : "") !== hash) untrusted ??= file;
    }

    const resultHash = hashJson({ value, outputs: Object.fromEntries(Object.entries(outputs).map(([f, s]) => [f, s.hash])) });
    const ms = Math.round(performance.now() - started);
    const record: TaskRecord = {
      key: untrusted ? "" : key,
      version: def.version,
      inputs: facts.inputHashes,
      reads: facts.reads,
      needs: needHashes,
      outputs,
      result: value,
      resultHash,
      ranAt: Date.now(),
      ms,
      ...(untrusted ? { untrusted: { file: untrusted } } : {}),
    };
    // A volatile task that found what it found last time changes nothing worth a write.
    const same = previous !== undefined && previous.key === record.key && previous.resultHash === resultHash && previous.version === record.version;
    this.state.tasks[name] = record;
    delete this.state.failures[name];
    if (!same) this.writer.changed(name);
    this.entries.set(name, entry);
    this.results[name] = value;
    this.resultHashes.set(name, resultHash);
    this.emit({
      type: "task",
      task: name,
      status: "ran",
      volatile: entry.volatile,
      changed: previous?.resultHash !== resultHash,
      entry,
      ms,
      ...(untrusted ? { note: `file \`${untrusted}\` changed while it ran; it will run again next time` } : {}),
    });
    this.settle(name, "ran");
  }
}

