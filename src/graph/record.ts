// Recording what a task did in the graph's state: a run's record (its key,
// what it consumed, its outputs' stamps and its result), or its failure.
import { statSync } from "node:fs";
import { observeFile, stampFromStat, type FileStamp } from "./files.js";
import { hashJson, keyedRecord, type Json } from "./json.js";
import { displayPath, type TaskFacts } from "./observe.js";
import type { GraphState, TaskRecord } from "./state.js";

export interface Recorded {
  record: TaskRecord;
  /** The result differs from the previous run's. */
  changed: boolean;
  /** The record differs from what the state held (worth saving). */
  differs: boolean;
  /** A file it read that changed while it ran: its result is kept but not trusted as fresh. */
  untrusted: string | undefined;
}

export interface RunToRecord {
  task: string;
  version: number;
  key: string;
  facts: TaskFacts;
  needHashes: Record<string, string>;
  value: Json;
  /** Each output written (display path) and the hash of what was written. */
  written: ReadonlyMap<string, string>;
  ms: number;
}

/** Puts a successful run's record in `state` (and clears its last failure). */
export function recordRun(state: GraphState, root: string, run: RunToRecord): Recorded {
  const outputs = keyedRecord<FileStamp>();
  for (const [file, hash] of run.written) outputs[file] = stampFromStat(hash, statSync(displayPath(root, file).absolute));

  // A read file that changed while the task ran: its result may mix old and new content.
  let untrusted: string | undefined;
  for (const [file, hash] of Object.entries(run.facts.reads)) {
    const path = run.facts.paths[file]!;
    const now = observeFile(path, state.files[path]);
    if ((now.exists ? now.stamp.hash : "") !== hash) untrusted ??= file;
  }

  const resultHash = hashJson({ value: run.value, outputs: Object.fromEntries(Object.entries(outputs).map(([f, s]) => [f, s.hash])) });
  const record: TaskRecord = {
    key: untrusted ? "" : run.key,
    version: run.version,
    inputs: run.facts.inputHashes,
    reads: run.facts.reads,
    needs: run.needHashes,
    outputs,
    result: run.value,
    resultHash,
    ranAt: Date.now(),
    ms: run.ms,
    ...(untrusted ? { untrusted: { file: untrusted } } : {}),
  };
  const previous = state.tasks.get(run.task);
  // A volatile task that found what it found last time changes nothing worth a write.
  const same = previous !== undefined && previous.key === record.key && previous.resultHash === resultHash && previous.version === record.version;
  state.tasks.set(run.task, record);
  delete state.failures[run.task];
  return { record, changed: previous?.resultHash !== resultHash, differs: !same, untrusted };
}

/** Drops a failed task's record (nothing of it can be trusted) and notes why it failed. */
export function recordFailure(state: GraphState, task: string, message: string): void {
  state.tasks.delete(task);
  state.failures[task] = { message, at: Date.now() };
}
