// The stamp (state.stamp): a flat summary of the state that lets a no-op
// run skip reading it. Its head names the state file it summarises (the
// state's id and the file's identity: once the state file is replaced, the
// stamp is ignored), the graph and selection of the run that wrote it, and
// every stamped task's result as one JSON object. Then one line per task
// the last run left fresh holds everything planning compares for that task:
// its version, input hashes, needs and the stat of each file it reads and
// writes (the stat fast path of files.ts), with its needs' result hashes
// and its own result hash. A task whose line still matches what is seen now
// is fresh without the state file; any difference sends it to the full
// check (plan.ts), which says why.
//
// A line is only written from a trusted record whose file stamps are all
// outside the racy window (files.ts), so a line that holds means exactly
// what the full check would conclude.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { sha256Base64url } from "../lib/hash.js";
import { statOrNull, type FileStamp } from "./files.js";
import { flattenInputs, hashJson, type Json } from "./json.js";
import { displayPath } from "./observe.js";
import { fileIdentity, stateIdOf, type GraphState, type TaskRecord } from "./state.js";
import type { TaskDeclaration } from "./task.js";

export const STAMP_FORMAT = "bottle-graph-stamp 1";

/** Where one task's line lies in the stamp's text. */
export interface StampLine {
  readonly signatureAt: number;
  /** Its needs' result hashes when it last ran, in order, each followed by a comma. */
  readonly needsAt: number;
  /** Its own result hash, up to `end`. */
  readonly hashAt: number;
  readonly end: number;
}

export class Stamp {
  constructor(
    /** The state file it summarises: its id and file identity (StateWriter.saved). */
    readonly state: string,
    /** The graph and selection of the run that wrote it (graphKey). */
    readonly graphKey: string,
    /** How many tasks that run selected. */
    readonly selected: number,
    /** Its lines, in the order that run decided them (needs first). */
    readonly lines: ReadonlyMap<string, StampLine>,
    /** The stamp as read. */
    readonly text: string,
    /** The results of the tasks it has lines for, by name. */
    private readonly results: Record<string, Json>,
  ) {}

  resultHash(line: StampLine): string {
    return this.text.slice(line.hashAt, line.end);
  }

  /** The results of the tasks it has lines for, by name. */
  resultsByTask(): Record<string, Json> {
    return this.results;
  }

  /** The line's text again, for a stamp that keeps it. */
  lineText(name: string, line: StampLine): string {
    return `${name}\t${this.text.slice(line.signatureAt, line.end)}`;
  }

  /** Whether `line` holds: the task is declared and its files are as stamped, and its needs returned what they did then. */
  holds<C>(line: StampLine, def: TaskDeclaration<C>, ctx: C, root: string, needs: readonly string[], needHash: (need: string) => string | undefined): boolean {
    const text = this.text;
    let at = line.needsAt;
    for (const need of needs) {
      const hash = needHash(need);
      if (hash === undefined || !text.startsWith(hash, at) || text.charCodeAt(at + hash.length) !== 44 /* , */) return false;
      at += hash.length + 1;
    }
    if (at !== line.hashAt - 1) return false;
    let now: string | null;
    try {
      now = signature(def, ctx, root, needs, liveView);
    } catch {
      // A declaration that throws fails in the full check, which says so.
      return false;
    }
    return now !== null && now.length === line.needsAt - 1 - line.signatureAt && text.startsWith(now, line.signatureAt);
  }
}

// Signature fields are separated by control characters, so a path or a name
// holding one cannot be stamped (its task always takes the full check).
const FIELD = "\x1f";
const PART = "\x1e";
const CONTROL = /[\x00-\x1f]/;

/** How a file a task declares is seen: a stat summary, "-" for a read file that is not there, null when it cannot be stamped. */
type FileView = (kind: "read" | "write", display: string, absolute: string) => string | null;

/**
 * A key over the graph's shape and the run's selection: every task's name
 * and needs in declaration order, and the targets. Two runs with the same
 * key analyse to the same graph and select the same tasks in the same order.
 */
export function graphKey(tasks: readonly TaskDeclaration<never>[], targets: readonly string[] | undefined): string {
  const shape: unknown[] = [targets ?? null];
  for (const { name, needs } of tasks) shape.push(name, needs ?? []);
  return sha256Base64url(JSON.stringify(shape));
}

function statText(size: number, mtimeMs: number, ctimeMs: number, ino: number, mode: number): string {
  return `${size}:${mtimeMs}:${ctimeMs}:${ino}:${mode}`;
}

/**
 * What a task's line must say for it to be fresh: built from its
 * declarations now, with `view` saying how each file is seen. Null when
 * the task cannot be stamped.
 */
function signature<C>(def: TaskDeclaration<C>, ctx: C, root: string, needs: readonly string[], view: FileView): string | null {
  let text = String(def.version);
  if (def.inputs) {
    const inputs = flattenInputs(def.inputs(ctx));
    for (const key in inputs) text += `${FIELD}i${JSON.stringify(key)}=${hashJson(inputs[key])}`;
  }
  for (const need of needs) {
    if (CONTROL.test(need)) return null;
    text += `${FIELD}n${need}`;
  }
  const reads = fileFields("read", def.reads?.(ctx) ?? [], root, view);
  const writes = reads === null ? null : fileFields("write", def.writes?.(ctx) ?? [], root, view);
  return writes === null ? null : text + reads + writes;
}

/** The signature's fields for the files a task reads or writes, or null when one cannot be stamped. */
function fileFields(kind: "read" | "write", paths: readonly string[], root: string, view: FileView): string | null {
  const tag = kind === "read" ? "r" : "w";
  let text = "";
  for (const path of paths) {
    const { display, absolute } = displayPath(root, path);
    const seen = CONTROL.test(display) ? null : view(kind, display, absolute);
    if (seen === null) return null;
    text += `${FIELD}${tag}${display}${PART}${seen}`;
  }
  return text;
}

/** Files as they are now (what observeFile would compare with a stamp; a stat it would throw on throws here too, and the line does not hold). */
const liveView: FileView = (kind, _display, absolute) => {
  const st = statOrNull(absolute);
  if (!st || !st.isFile()) return kind === "read" ? "-" : null;
  return statText(st.size, st.mtimeMs, st.ctimeMs, st.ino, st.mode & 0o7777);
};

function stampText(stamp: FileStamp | undefined): string | null {
  return stamp && !stamp.racy ? statText(stamp.size, stamp.mtimeMs, stamp.ctimeMs, stamp.ino, stamp.mode) : null;
}

/** The line for a task whose record the full check would find fresh (given the same files and needs), or null. */
function recordLine<C>(def: TaskDeclaration<C>, ctx: C, root: string, needs: readonly string[], record: TaskRecord, state: GraphState): string | null {
  if (def.volatile || record.key === "" || record.untrusted || record.version !== def.version) return null;
  let needHashes = "";
  for (const need of needs) {
    const hash = record.needs[need];
    if (hash === undefined) return null;
    needHashes += `${hash},`;
  }
  if (Object.keys(record.needs).length !== needs.length) return null;
  if (def.inputs) {
    const inputs = flattenInputs(def.inputs(ctx));
    let count = 0;
    for (const key in inputs) {
      if (record.inputs[key] !== hashJson(inputs[key])) return null;
      count++;
    }
    if (count !== Object.keys(record.inputs).length) return null;
  } else if (Object.keys(record.inputs).length !== 0) return null;

  const readsSeen = new Set<string>();
  const view: FileView = (kind, display, absolute) => {
    if (kind === "write") return stampText(record.outputs[display]);
    readsSeen.add(display);
    const hash = record.reads[display];
    if (hash === undefined) return null;
    if (hash === "") return "-";
    const cached = state.files[absolute];
    return cached && cached.hash === hash ? stampText(cached) : null;
  };
  const text = signature(def, ctx, root, needs, view);
  if (text === null || readsSeen.size !== Object.keys(record.reads).length) return null;
  return `${text}\t${needHashes}\t${record.resultHash}`;
}

/**
 * Reads the stamp at `path` if it summarises the state file at `statePath`
 * as it is now; null otherwise (no stamp, another format, another state).
 */
export function readStamp(path: string, statePath: string): Stamp | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  const first = text.indexOf("\n");
  const second = text.indexOf("\n", first + 1);
  const state = stateOnDisk(statePath);
  if (first < 0 || second < 0 || state === null || text.slice(0, first) !== `${STAMP_FORMAT} ${state}`) return null;
  const run = /^graph ([A-Za-z0-9_-]+) selected (\d+)$/.exec(text.slice(first + 1, second));
  const third = text.indexOf("\n", second + 1);
  if (!run || third < 0) return null;
  let results: Record<string, Json>;
  try {
    results = JSON.parse(text.slice(second + 1, third)) as Record<string, Json>;
  } catch {
    return null;
  }
  if (typeof results !== "object" || results === null || Array.isArray(results)) return null;
  const lines = new Map<string, StampLine>();
  let at = third + 1;
  while (at < text.length) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const t1 = text.indexOf("\t", at);
    const t2 = text.indexOf("\t", t1 + 1);
    const t3 = text.indexOf("\t", t2 + 1);
    // A torn or foreign line: trust none of it.
    const name = text.slice(at, t1);
    if (t1 < 0 || t3 < 0 || t3 > end || !Object.hasOwn(results, name)) return null;
    lines.set(name, { signatureAt: t1 + 1, needsAt: t2 + 1, hashAt: t3 + 1, end });
    at = end + 1;
  }
  return new Stamp(state, run[1]!, Number(run[2]), lines, text, results);
}

/** The state file is still the one `stamp` summarises (another process may have saved it since the stamp was read). */
export function stampIsCurrent(stamp: Stamp, statePath: string): boolean {
  return stateOnDisk(statePath) === stamp.state;
}

/**
 * The state file as it is: the id at its head (state.ts writes it first),
 * read without the rest, and its file identity. A state rewritten by a
 * bottle that kept the id but knew nothing of stamps still differs.
 */
function stateOnDisk(statePath: string): string | null {
  let fd: number;
  try {
    fd = openSync(statePath, "r");
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(160);
    const length = readSync(fd, head, 0, head.length, 0);
    const id = stateIdOf(head.toString("utf8", 0, length));
    return id === null ? null : `${id} ${fileIdentity(fstatSync(fd))}`;
  } finally {
    closeSync(fd);
  }
}

export interface StampTask<C> {
  def: TaskDeclaration<C>;
  needs: readonly string[];
  /** Its line in the stamp read at the start, when that line held and its record is untouched since. */
  unchanged: { stamp: Stamp; line: StampLine } | undefined;
}

export interface StampedRun {
  /** graphKey of the run's graph and selection. */
  graphKey: string;
  /** How many tasks it selected. */
  selected: number;
}

/**
 * Writes the stamp for `tasks` (in the order they were decided) from
 * `state` as saved (`saved`: StateWriter.saved), unless it is the stamp
 * read at the start (`previous`) word for word.
 */
export function writeStamp<C>(
  path: string,
  previous: Stamp | null,
  state: GraphState,
  saved: string,
  ctx: C,
  root: string,
  run: StampedRun,
  tasks: Iterable<[string, StampTask<C>]>,
): void {
  const lines: string[] = [];
  // No prototype: a task may be named __proto__.
  const results = Object.create(null) as Record<string, Json>;
  for (const [name, { def, needs, unchanged }] of tasks) {
    if (CONTROL.test(name)) continue;
    if (unchanged) {
      // The record is as it was when the line was written: neither it nor its result needs parsing.
      lines.push(unchanged.stamp.lineText(name, unchanged.line));
      results[name] = unchanged.stamp.resultsByTask()[name]!;
      continue;
    }
    const record = state.tasks.get(name);
    if (!record) continue;
    let line: string | null;
    try {
      line = recordLine(def, ctx, root, needs, record, state);
    } catch {
      line = null;
    }
    if (line === null) continue;
    lines.push(`${name}\t${line}`);
    results[name] = record.result;
  }
  const head = [`${STAMP_FORMAT} ${saved}`, `graph ${run.graphKey} selected ${run.selected}`, JSON.stringify(results)];
  const text = `${[...head, ...lines].join("\n")}\n`;
  if (text !== previous?.text) writeFileAtomic(path, text);
}
