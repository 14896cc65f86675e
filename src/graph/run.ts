// The engine's two entry points: planGraph (what a dry run, `graph` and
// `explain` show; reads only) and runGraph (takes the stage lock, loads the
// state, runs the executor, emits the summary).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { analyzeGraph, closure, type Graph } from "./analyze.js";
import type { EngineEvent } from "./events.js";
import { Executor, isForced, type RunResult } from "./executor.js";
import { acquireStageLock } from "./lock.js";
import { observeTask } from "./observe.js";
import { planTask, type Plan, type PlanEntry } from "./plan.js";
import { freshRun } from "./fresh-run.js";
import { graphKey, readStamp, stampIsCurrent } from "./stamp.js";
import { loadState } from "./state.js";
import type { TaskDeclaration, TaskDef } from "./task.js";

export type { RunResult };

export const STATE_FILE = "state.json";
/** The flat summary of state.json that lets a no-op run skip reading it (stamp.ts). */
export const STAMP_FILE = "state.stamp";
export const LOCK_FILE = ".lock";

/** The lock a run takes when its caller does not say: the caller should, so that a waiting process can say who holds the stage. */
const DEFAULT_LOCK = { command: "a graph run", timeoutMs: 30_000 };

interface Selection {
  /** The stage dir: outputs, state.json and the lock live here. */
  root: string;
  /** Run only these tasks and what they need (default: all). */
  targets?: readonly string[];
  /** Run these tasks even if fresh (`true`: all of them). */
  force?: true | readonly string[];
}

export interface PlanOptions<C> extends Selection {
  /** Planning reads only what tasks declare. */
  tasks: readonly TaskDeclaration<C>[];
  ctx: C;
}

export interface RunOptions<C, RC extends C = C> extends Selection {
  tasks: readonly TaskDef<C, RC>[];
  /** What every task's declarations and run are given. */
  ctx: RC;
  /** Tasks running at once (default: the number of cores). */
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /** The stage lock: who takes it, and how long to wait for it; `false` when the caller already holds it. */
  lock?: { command: string; timeoutMs: number } | false;
}

function select(graph: Graph<TaskDeclaration<never>>, targets: readonly string[] | undefined): string[] {
  if (!targets) return [...graph.order];
  const wanted = closure(graph, targets);
  return graph.order.filter((name) => wanted.has(name));
}

/** The plan a dry run, `graph` and `explain` show. Reads only. */
export function planGraph<C>(options: PlanOptions<C>): Plan {
  const graph = analyzeGraph(options.tasks);
  const order = select(graph, options.targets);
  const { state, warning } = loadState(join(options.root, STATE_FILE), { setAside: false });
  const predicted = new Map<string, string>();
  const entries = new Map<string, PlanEntry>();
  for (const name of order) {
    const def = graph.tasks.get(name)!;
    const needs = graph.needs.get(name)!;
    const record = state.tasks.get(name);
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

export async function runGraph<C, RC extends C = C>(options: RunOptions<C, RC>): Promise<RunResult> {
  const started = performance.now();
  const root = options.root;
  const stateFile = join(root, STATE_FILE);
  const stampFile = join(root, STAMP_FILE);
  const key = graphKey(options.tasks, options.targets);
  let stamp = readStamp(stampFile, stateFile);
  // A stamp written for this very graph and selection shows it valid; any other graph is analysed now, before the lock.
  const stampFits = stamp !== null && stamp.graphKey === key;
  let graph = stampFits ? undefined : analyzeGraph(options.tasks);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const lockOptions = options.lock === false ? null : (options.lock ?? DEFAULT_LOCK);
  const lock = lockOptions ? await acquireStageLock(join(root, LOCK_FILE), { ...lockOptions, ...(options.signal ? { signal: options.signal } : {}) }) : null;
  try {
    // Another process may have saved the state while this one waited for the lock.
    if (stamp && !stampIsCurrent(stamp, stateFile)) stamp = null;
    let verified: ReadonlySet<string> = new Set();
    if (stamp && stampFits && !options.force && !options.signal?.aborted) {
      const fresh = freshRun({ tasks: options.tasks, ctx: options.ctx, root, stamp, graphKey: key, onEvent: options.onEvent });
      if ("result" in fresh) return finish(fresh.result, started, options.onEvent);
      verified = fresh.verified;
    }
    graph ??= analyzeGraph(options.tasks);
    const executor = new Executor({
      graph,
      order: select(graph, options.targets),
      ctx: options.ctx,
      root,
      stateFile,
      stampFile,
      stamp,
      verified,
      graphKey: key,
      // Without a stamp every task needs the state: read it now, so a warning about it comes first.
      state: stamp ? undefined : loadState(stateFile),
      force: options.force,
      concurrency: options.concurrency,
      signal: options.signal,
      onEvent: options.onEvent,
    });
    return finish(await executor.run(), started, options.onEvent);
  } finally {
    lock?.release();
  }
}

function finish(result: RunResult, started: number, onEvent: ((event: EngineEvent) => void) | undefined): RunResult {
  result.summary.ms = Math.round(performance.now() - started);
  onEvent?.({ type: "summary", ...result.summary });
  return result;
}
