// The pure half of planning: from a task's stored record and the facts
// observed now, decide whether it is fresh and say why not. Runs, dry runs,
// `graph` and `explain` all build their entries with planTask.
import { hashJson } from "./json.js";
import type { TaskFacts } from "./observe.js";
import type { Reason } from "./reasons.js";
import type { TaskRecord } from "./state.js";

export type PlanStatus = "fresh" | "run" | "blocked";

export interface PlanEntry {
  readonly task: string;
  readonly description: string | undefined;
  readonly needs: readonly string[];
  readonly volatile: boolean;
  readonly status: PlanStatus;
  readonly reasons: readonly Reason[];
  /**
   * Needs that run before this task is decided (dry runs only). The entry
   * assumes they return their previous results; if one returns something
   * else, this task runs too.
   */
  readonly pendingNeeds: readonly string[];
}

export interface Plan {
  readonly entries: readonly PlanEntry[];
  readonly warnings: readonly string[];
}

export interface PlanInput {
  task: string;
  description?: string | undefined;
  version: number;
  volatile: boolean;
  forced: boolean;
  needs: readonly string[];
  record: TaskRecord | undefined;
  lastFailure: string | undefined;
  facts: TaskFacts;
  /** Result hash of each need: actual, or (dry run) the stored one. */
  needHashes: Readonly<Record<string, string>>;
  pendingNeeds?: readonly string[];
}

export function taskKey(task: string, version: number, facts: TaskFacts, needHashes: Readonly<Record<string, string>>): string {
  return hashJson({ name: task, version, inputs: facts.inputs, reads: facts.reads, needs: needHashes });
}

function sameValues(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count++;
  }
  return count === Object.keys(b).length;
}

/**
 * The stored key still holds when every part it was made from is unchanged;
 * then there is nothing to hash (the common case in a no-op run).
 */
function storedKeyHolds(input: PlanInput, record: TaskRecord): boolean {
  return (
    record.key !== "" &&
    record.version === input.version &&
    sameValues(record.inputs, input.facts.inputHashes) &&
    sameValues(record.reads, input.facts.reads) &&
    sameValues(record.needs, input.needHashes)
  );
}

export function planTask(input: PlanInput): { entry: PlanEntry; key: string } {
  const { record, facts } = input;
  const key = record && storedKeyHolds(input, record) ? record.key : taskKey(input.task, input.version, facts, input.needHashes);
  const reasons: Reason[] = [];
  if (input.forced) reasons.push({ kind: "forced" });
  if (input.volatile) reasons.push({ kind: "volatile" });

  if (!record) {
    reasons.push(input.lastFailure ? { kind: "last-run-failed", message: input.lastFailure } : { kind: "never-ran" });
  } else {
    if (record.key !== key) reasons.push(...keyDifferences(input, record));
    reasons.push(...outputProblems(facts));
  }

  const entry: PlanEntry = Object.freeze({
    task: input.task,
    description: input.description,
    needs: Object.freeze([...input.needs]),
    volatile: input.volatile,
    status: reasons.length ? "run" : "fresh",
    reasons: Object.freeze(reasons),
    pendingNeeds: Object.freeze([...(input.pendingNeeds ?? [])]),
  });
  return { entry, key };
}

interface EntryBasics {
  task: string;
  description?: string | undefined;
  needs: readonly string[];
  volatile: boolean;
}

const NONE: readonly never[] = Object.freeze([]);

function makeEntry(basics: EntryBasics, status: PlanStatus, reasons: readonly Reason[]): PlanEntry {
  return Object.freeze({
    task: basics.task,
    description: basics.description,
    needs: Object.freeze([...basics.needs]),
    volatile: basics.volatile,
    status,
    reasons: reasons.length ? Object.freeze([...reasons]) : NONE,
    pendingNeeds: NONE,
  });
}

/** A task that cannot run because a need failed, or the run was interrupted. */
export function blockedEntry(basics: EntryBasics & { reasons: readonly Reason[] }): PlanEntry {
  return makeEntry(basics, "blocked", basics.reasons);
}

/** A task found fresh without a full check (its stamp line held). */
export function freshEntry(basics: EntryBasics): PlanEntry {
  return makeEntry(basics, "fresh", NONE);
}

/** A task that had to run but could not even be checked. */
export function runEntry(basics: EntryBasics): PlanEntry {
  return makeEntry(basics, "run", []);
}

function keyDifferences(input: PlanInput, record: TaskRecord): Reason[] {
  const reasons: Reason[] = [];
  if (record.untrusted) reasons.push({ kind: "changed-while-running", file: record.untrusted.file });
  if (record.version !== input.version) reasons.push({ kind: "version-changed", from: record.version, to: input.version });

  const { inputHashes, reads } = input.facts;
  for (const [name, hash] of Object.entries(inputHashes)) {
    if (!Object.hasOwn(record.inputs, name)) reasons.push({ kind: "input-added", input: name });
    else if (record.inputs[name] !== hash) reasons.push({ kind: "input-changed", input: name });
  }
  for (const name of Object.keys(record.inputs)) if (!Object.hasOwn(inputHashes, name)) reasons.push({ kind: "input-removed", input: name });

  for (const [file, hash] of Object.entries(reads)) {
    const before = Object.hasOwn(record.reads, file) ? record.reads[file] : undefined;
    if (before === undefined) reasons.push({ kind: "file-added", file });
    else if (before === hash) continue;
    else if (hash === "") reasons.push({ kind: "file-deleted", file });
    else if (before === "") reasons.push({ kind: "file-appeared", file });
    else reasons.push({ kind: "file-changed", file });
  }
  for (const file of Object.keys(record.reads)) if (!Object.hasOwn(reads, file)) reasons.push({ kind: "file-dropped", file });

  for (const need of input.needs) {
    if (record.needs[need] !== input.needHashes[need]) reasons.push({ kind: "need-changed", need });
  }
  if (reasons.length === 0) reasons.push({ kind: "never-ran" });
  return reasons;
}

function outputProblems(facts: TaskFacts): Reason[] {
  const reasons: Reason[] = [];
  for (const [file, check] of Object.entries(facts.outputs)) {
    switch (check.state) {
      case "ok":
        break;
      case "untracked":
        reasons.push({ kind: "output-added", file });
        break;
      case "missing":
        reasons.push({ kind: "output-deleted", file });
        break;
      case "modified":
        reasons.push({ kind: "output-modified", file });
        break;
      case "mode":
        reasons.push({ kind: "output-mode", file, was: check.was, now: check.now });
        break;
    }
  }
  return reasons;
}
