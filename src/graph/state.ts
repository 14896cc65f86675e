// The engine's memory between runs: one versioned JSON file in the stage
// dir, replaced atomically. An unreadable or foreign file is moved aside
// (never trusted, never silently deleted) and every task runs.
import { randomUUID } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, renameSync, statSync, type Stats } from "node:fs";
import type { FileStamp } from "./files.js";
import type { Json } from "./json.js";
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
  tasks: Record<string, TaskRecord>;
  /** Stat cache for files tasks read. */
  files: Record<string, FileStamp>;
  /** Tasks whose last run failed (their records are dropped), with the failure. */
  failures: Record<string, { message: string; at: number }>;
}

export function emptyState(): GraphState {
  return { format: STATE_FORMAT, version: STATE_VERSION, id: "", tasks: {}, files: {}, failures: {} };
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
  let problem: string | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<GraphState>;
    if (parsed.format !== STATE_FORMAT) problem = "it is not a bottle state file";
    else if (parsed.version !== STATE_VERSION) problem = `it has state version ${String(parsed.version)}, this bottle reads version ${STATE_VERSION}`;
    else if (typeof parsed.tasks !== "object" || parsed.tasks === null) problem = "it has no task records";
    else return { state: { ...emptyState(), ...parsed } as GraphState, disk };
  } catch {
    problem = "it is not valid JSON";
  }
  if (options.setAside === false) {
    return { state: emptyState(), disk, warning: `state file ${path} is unreadable (${problem}); a run would set it aside and run every task` };
  }
  const aside = `${path}.unreadable-${Date.now()}`;
  renameSync(path, aside);
  return { state: emptyState(), disk: "absent", warning: `state file ${path} was set aside as ${aside} (${problem}); every task will run` };
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
    writeFileAtomic(this.path, JSON.stringify(this.state));
    this.diskStamp = statStamp(this.path);
    this.lastWrite = Date.now();
    this.lastCost = this.lastWrite - started;
  }

  private mergeFromDisk(): void {
    let disk: GraphState;
    try {
      disk = JSON.parse(readFileSync(this.path, "utf8")) as GraphState;
      if (disk.format !== STATE_FORMAT || disk.version !== STATE_VERSION) return;
    } catch {
      return;
    }
    this.merged = true;
    for (const [name, record] of Object.entries(disk.tasks ?? {})) if (!this.touched.has(name)) this.state.tasks[name] = record;
    for (const [name, failure] of Object.entries(disk.failures ?? {})) if (!this.touched.has(name)) this.state.failures[name] = failure;
    for (const name of Object.keys(this.state.tasks)) if (!this.touched.has(name) && !(name in (disk.tasks ?? {}))) delete this.state.tasks[name];
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
