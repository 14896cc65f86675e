// The engine's memory between runs: one versioned JSON file in the stage
// dir, replaced atomically. An unreadable or foreign file is moved aside
// (never trusted, never silently deleted) and every task runs.
//
// The file is one JSON document laid out for reading in parts: a first line
// with everything but the task records, then one record per line, each
// parsed only when a run asks for it (task-records.ts):
//   {"format":"bottle-graph-state","version":1,"id":"…","files":{…},"failures":{…},"tasks":{
//   "name":{record},
//   …
//   }}
// A file written in one piece (before this layout) is read too.
import { randomUUID } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, renameSync, statSync, type Stats } from "node:fs";
import type { FileStamp } from "./files.js";
import { keyedRecord, type Json } from "./json.js";
import { TaskRecords } from "./task-records.js";
import { writeFileAtomic } from "../lib/atomic-write.js";

export const STATE_FORMAT = "bottle-graph-state";
export const STATE_VERSION = 1;

export interface TaskRecord {
  /** Fingerprint of everything the task consumed; "" when the run cannot be trusted. */
  key: string;
  version: number;
  /** Leaf input path → hash of its canonical JSON value (values are not stored). */
  inputs: Record<string, string>;
  /** File read → content hash, or "" for a file that did not exist. */
  reads: Record<string, string>;
  /** Needed task → its result hash when this task ran. */
  needs: Record<string, string>;
  outputs: Record<string, FileStamp>;
  result: Json;
  resultHash: string;
  ranAt: number;
  ms: number;
  /** Why the last run is not trusted (e.g. a read file changed while it ran). */
  untrusted?: { file: string };
}

export interface GraphState {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  /**
   * New with every save, and written right after the version so that the
   * stamp (stamp.ts) can tell which state it summarises from the file's
   * first bytes. "" in a state not yet saved (or saved before ids).
   */
  id: string;
  tasks: TaskRecords;
  /** Stat cache for files tasks read. */
  files: Record<string, FileStamp>;
  /** Tasks whose last run failed (their records are dropped), with the failure. */
  failures: Record<string, { message: string; at: number }>;
}

export function emptyState(): GraphState {
  return { format: STATE_FORMAT, version: STATE_VERSION, id: "", tasks: new TaskRecords(), files: keyedRecord(), failures: keyedRecord() };
}

const ID_AT_HEAD = new RegExp(`^\\{"format":"${STATE_FORMAT}","version":${STATE_VERSION},"id":"([A-Za-z0-9-]{1,64})"`);

/** The id a saved state's text starts with, or null. */
export function stateIdOf(head: string): string | null {
  return ID_AT_HEAD.exec(head)?.[1] ?? null;
}

export interface LoadedState {
  state: GraphState;
  /** The file it was read from (fileIdentity), "absent" when there was none. */
  disk: string;
  /** Set when a state file existed but was moved aside. */
  warning?: string;
}

/**
 * Reads the state file. With `setAside` (the default) an unreadable one is
 * renamed out of the way; dry runs pass false and only warn.
 */
export function loadState(path: string, options: { setAside?: boolean } = {}): LoadedState {
  let text: string;
  let disk: string;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: emptyState(), disk: "absent" };
    throw error;
  }
  try {
    disk = fileIdentity(fstatSync(fd));
    text = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  const problem = parseState(text);
  if (typeof problem !== "string") return { state: problem, disk };
  if (options.setAside === false) {
    return { state: emptyState(), disk, warning: `state file ${path} is unreadable (${problem}); a run would set it aside and run every task` };
  }
  const aside = `${path}.unreadable-${Date.now()}`;
  renameSync(path, aside);
  return { state: emptyState(), disk: "absent", warning: `state file ${path} was set aside as ${aside} (${problem}); every task will run` };
}

const TASKS_HEAD = `"tasks":{`;
const TASKS_END = "\n}}\n";

/** The state in a file's text, or what is wrong with it. */
function parseState(text: string): GraphState | string {
  const head = text.indexOf("\n");
  const inParts = head > 0 && text.endsWith(TASKS_HEAD, head);
  let parsed: Partial<Omit<GraphState, "tasks">> & { tasks?: unknown };
  try {
    parsed = JSON.parse(inParts ? `${text.slice(0, head)}}}` : text) as typeof parsed;
  } catch {
    return "it is not valid JSON";
  }
  if (parsed?.format !== STATE_FORMAT) return "it is not a bottle state file";
  if (parsed.version !== STATE_VERSION) return `it has state version ${String(parsed.version)}, this bottle reads version ${STATE_VERSION}`;
  if (typeof parsed.tasks !== "object" || parsed.tasks === null) return "it has no task records";
  const { tasks, files, failures, ...rest } = parsed;
  const keyed = { files: keyedRecord(files ?? {}), failures: keyedRecord(failures ?? {}) };
  if (!inParts) return { ...emptyState(), ...rest, ...keyed, tasks: TaskRecords.fromObject(tasks as Record<string, TaskRecord>) };
  const records = recordLines(text, head + 1);
  return records ? { ...emptyState(), ...rest, ...keyed, tasks: records } : "it is not valid JSON";
}

/** The record lines from `at` on, each `"name":{…}` and a comma but the last; null for a torn or foreign layout. */
function recordLines(text: string, at: number): TaskRecords | null {
  if (!text.endsWith(TASKS_END)) return null;
  const records = new TaskRecords();
  const end = text.length - TASKS_END.length;
  if (at === end) return records;
  while (at <= end) {
    let stop = text.indexOf("\n", at);
    if (stop < 0 || stop > end) stop = end;
    const last = stop === end;
    const close = last ? stop : stop - 1;
    if (!last && text.charCodeAt(close) !== 44 /* , */) return null;
    const key = jsonStringEnd(text, at);
    if (key < 0 || text.charCodeAt(key) !== 58 /* : */ || text.charCodeAt(key + 1) !== 123 /* { */ || text.charCodeAt(close - 1) !== 125 /* } */) return null;
    const quoted = text.slice(at, key);
    const name = quoted.includes("\\") ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
    records.setText(name, text.slice(key + 1, close));
    at = stop + 1;
  }
  return records;
}

/** Where the JSON string starting at `at` ends (just past its closing quote), or -1. */
function jsonStringEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== 34 /* " */) return -1;
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34) return i + 1;
    else if (c === 10) return -1;
  }
  return -1;
}

/** The state as the file holds it (see the layout above). */
function stateText(state: GraphState): string {
  const { tasks, ...rest } = state;
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},${TASKS_HEAD}\n${tasks.lines().join(",\n")}${TASKS_END}`;
}

/**
 * Saves the state after tasks finish. The first save after a quiet spell
 * happens at once; saves that would follow in quick succession are merged,
 * so a 10,000-task build does not rewrite a large file 10,000 times. A
 * crash loses at most the records of the merge window, and those tasks
 * simply run again.
 *
 * Another bottle process may have saved in between (watch mode beside a
 * running launch, which holds no lock while the agent runs). Then the file
 * on disk is re-read and only the records this run touched replace its own,
 * so neither process drops the other's work.
 */
export class StateWriter {
  private lastWrite = 0;
  private lastCost = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly touched = new Set<string>();
  private diskStamp: string;
  /** Another process's records were merged in (see mergeFromDisk). */
  merged = false;

  constructor(
    private readonly path: string,
    private readonly state: GraphState,
    /** The file the state was read from (LoadedState.disk). */
    disk: string,
  ) {
    this.diskStamp = disk;
  }

  /** The state file as this writer last read or wrote it: its id and its file identity (what a stamp names). */
  get saved(): string {
    return `${this.state.id} ${this.diskStamp}`;
  }

  /** Records that `task`'s record (or failure) changed; no name: only the file cache. */
  changed(task?: string): void {
    if (task !== undefined) this.touched.add(task);
    if (this.timer) return;
    const gap = Math.max(50, this.lastCost * 4);
    const wait = this.lastWrite + gap - Date.now();
    if (wait <= 0) this.write();
    else this.timer = setTimeout(() => this.write(), wait);
  }

  flush(): void {
    if (this.timer) this.write();
  }

  write(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const started = Date.now();
    if (statStamp(this.path) !== this.diskStamp) this.mergeFromDisk();
    this.state.id = randomUUID();
    writeFileAtomic(this.path, stateText(this.state));
    this.diskStamp = statStamp(this.path);
    this.lastWrite = Date.now();
    this.lastCost = this.lastWrite - started;
  }

  private mergeFromDisk(): void {
    let disk: GraphState | string;
    try {
      disk = parseState(readFileSync(this.path, "utf8"));
    } catch {
      return;
    }
    if (typeof disk === "string") return;
    this.merged = true;
    const tasks = this.state.tasks;
    for (const name of disk.tasks.names()) if (!this.touched.has(name)) tasks.adopt(name, disk.tasks);
    for (const [name, failure] of Object.entries(disk.failures ?? {})) if (!this.touched.has(name)) this.state.failures[name] = failure;
    for (const name of [...tasks.names()]) if (!this.touched.has(name) && !disk.tasks.has(name)) tasks.delete(name);
    for (const [file, stamp] of Object.entries(disk.files ?? {})) this.state.files[file] ??= stamp;
  }
}

/** What tells one state file from another on disk: a rename of a new one changes the inode and the times. */
export function fileIdentity(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

function statStamp(path: string): string {
  try {
    return fileIdentity(statSync(path));
  } catch {
    return "absent";
  }
}
