// `bottle watch`: build once, then watch the config, the files it imports
// and the files tasks read; on a real content change re-load the config in
// this process, re-plan and run only what is not fresh. Driven by the pure
// state machine in machine.ts.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { sha256Hex } from "../../lib/hash.js";
import { isInside, resolvedPath } from "../../lib/path-checks.js";
import { errorMessage, isBottleError } from "../../lib/errors.js";
import type { EngineEvent, RunResult } from "../../graph/index.js";
import { LOCK_FILE, acquireStageLock, describeReason, runGraph, type StageLock } from "../../graph/index.js";
import { DirectoryWatch } from "./dirs.js";
import { transition, type Effect, type WatchEvent, type WatchState } from "./watch-states.js";
import type { Session } from "../session.js";

export interface WatchOptions {
  /** Loads the config afresh and opens the bottle (a BottleError with code "config" on bad config). */
  open(): Promise<Session>;
  /** The config file: watched from the start, before it is first loaded. */
  config?: string;
  json: boolean;
  debounceMs?: number;
  lockTimeoutMs: number;
  signal: AbortSignal;
  print(line: string): void;
}

type TaskEvent = Extract<EngineEvent, { type: "task" }>;

function contentHash(path: string): string {
  try {
    return sha256Hex(readFileSync(path));
  } catch {
    return "missing";
  }
}

/** What a run did that a person cares about: tasks that really changed something. */
export function meaningful(event: TaskEvent): boolean {
  return event.status === "failed" || event.status === "blocked" || (event.status === "ran" && (!event.volatile || event.changed));
}

export class BottleWatcher {
  private state: WatchState = "idle";
  private timer: NodeJS.Timeout | undefined;
  private readonly dirs = new DirectoryWatch((dir, name) => this.onDirEvent(dir, name));
  private session: Session | undefined;
  /** Each watched file's content hash as the last run read it (as the watcher first saw it before that). */
  private readonly known = new Map<string, string>();
  /**
   * Directory entries whose events concern a watched file: the file's own
   * path and, for a symlink, the file it points to (an edit there changes
   * nothing in the link's directory).
   */
  private entries = new Map<string, Set<string>>();
  /** Files with an event not yet checked; checked together on the next turn of the event loop. */
  private readonly pending = new Set<string>();
  /** Files with events since the last run started: named if the debounce ends with nothing changed. */
  private readonly eventFiles = new Set<string>();
  private runAbort: AbortController | undefined;
  private firstRun = true;
  private fatal: { error: unknown } | undefined;
  private exit!: () => void;
  private readonly exited = new Promise<void>((resolve) => (this.exit = resolve));
  private readonly debounceMs: number;
  /** For tests and the benchmark: called after each run with what it did. */
  onRun: ((outcome: { ran: string[]; ok: boolean; configError: boolean }) => void) | undefined;

  constructor(private readonly options: WatchOptions) {
    this.debounceMs = options.debounceMs ?? 50;
  }

  /** Builds once, then watches until the signal aborts. Rejects only if the first run fails unexpectedly. */
  async start(): Promise<void> {
    const { signal } = this.options;
    // The first run reads whatever is there by then: an edit before it needs no event.
    if (this.options.config) await this.updateWatched([resolve(this.options.config)]);
    // The first build is a run like any other: it ends with `done`, and a
    // stop while it runs aborts it and exits once it is done.
    this.state = "running";
    this.perform({ type: "run" });
    if (signal.aborted) this.dispatch({ type: "stop" });
    else signal.addEventListener("abort", () => this.dispatch({ type: "stop" }), { once: true });
    await this.exited;
    this.pending.clear();
    await this.dirs.close();
    if (this.fatal) throw this.fatal.error;
  }

  private onDirEvent(dir: string, name: string | undefined): void {
    if (this.state === "stopped" || this.state === "stopping") return;
    const files =
      name === undefined
        ? [...this.entries].filter(([entry]) => dirname(entry) === dir).flatMap(([, owners]) => [...owners])
        : [...(this.entries.get(join(dir, name)) ?? [])];
    if (!files.length) return;
    const first = this.pending.size === 0;
    for (const file of files) {
      this.pending.add(file);
      this.eventFiles.add(file);
    }
    if (first) setImmediate(() => this.checkPending());
  }

  /** The burst has settled: run only if some file's content now differs from what the last run read. */
  private onTimer(): void {
    const eventFiles = [...this.eventFiles];
    this.eventFiles.clear();
    const changed = [...this.known].some(([file, hash]) => contentHash(file) !== hash);
    if (!changed) for (const file of eventFiles) this.emitJson({ event: "ignored", file, reason: "content unchanged" });
    this.dispatch({ type: "timer", changed });
  }

  /** Compares the files that had events with the content the last run read. */
  private checkPending(): void {
    const files = [...this.pending];
    this.pending.clear();
    if (this.state === "stopped" || this.state === "stopping") return;
    let changed = false;
    for (const file of files) {
      if (!this.known.has(file)) continue;
      if (contentHash(file) !== this.known.get(file)) changed = true;
      // A touch, a save without edits, an editor's rename dance: same content, no run.
      else this.emitJson({ event: "ignored", file, reason: "content unchanged" });
    }
    if (changed) this.dispatch({ type: "change" });
  }

  /** Extra NDJSON events (--json only) that scripts and tests can wait on. */
  private emitJson(event: Record<string, unknown>): void {
    if (this.options.json) this.options.print(JSON.stringify(event));
  }

  private dispatch(event: WatchEvent): void {
    const before = this.state;
    const next = transition(this.state, event);
    this.state = next.state;
    if (next.state !== before) this.emitJson({ event: "state", state: next.state });
    for (const effect of next.effects) this.perform(effect);
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case "start-timer":
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.onTimer(), this.debounceMs);
        return;
      case "cancel-timer":
        clearTimeout(this.timer);
        return;
      case "run": {
        const first = this.firstRun;
        this.firstRun = false;
        void this.run().then(
          () => this.dispatch({ type: "done" }),
          (error: unknown) => {
            // The first build failing unexpectedly ends the watch with that
            // error (as `bottle build` would); later, it is reported and the
            // watch goes on.
            if (first) {
              this.fatal = { error };
              this.dispatch({ type: "stop" });
            } else {
              this.report(error);
            }
            this.dispatch({ type: "done" });
          },
        );
        return;
      }
      case "abort-run":
        this.runAbort?.abort();
        return;
      case "exit":
        clearTimeout(this.timer);
        this.exit();
        return;
    }
  }

  /**
   * The stage lock, or null if the watch is stopped while another process
   * holds it: Ctrl-C does not wait for the lock. Says once that it waits.
   */
  private async takeLock(stageDir: string, signal: AbortSignal, stamp: string): Promise<StageLock | null> {
    const path = join(stageDir, LOCK_FILE);
    mkdirSync(stageDir, { recursive: true, mode: 0o700 });
    try {
      return await acquireStageLock(path, {
        command: "bottle watch",
        timeoutMs: this.options.lockTimeoutMs,
        signal,
        onWait: (holder) => {
          const who = holder ? `pid ${holder.pid} (${holder.command})` : "another process";
          this.options.print(
            this.options.json
              ? JSON.stringify({ event: "waiting", lock: path, holder: holder ? { pid: holder.pid, command: holder.command } : null })
              : `[${stamp}] waiting for ${stageDir}: in use by ${who}`,
          );
        },
      });
    } catch (error) {
      if (signal.aborted) return null;
      throw error;
    }
  }

  private report(error: unknown): void {
    const message = errorMessage(error);
    const { print, json } = this.options;
    print(json ? JSON.stringify({ event: "error", message }) : `[${new Date().toTimeString().slice(0, 8)}] error: ${message}`);
    this.onRun?.({ ran: [], ok: false, configError: false });
  }

  /** Files whose content the next run depends on (never the stage's own outputs). */
  private watchedFiles(session: Session | undefined, configFiles: readonly string[]): string[] {
    const files = new Set(configFiles);
    if (session) {
      for (const task of session.backend.tasks) {
        for (const path of task.reads?.(session.ctx) ?? []) files.add(isAbsolute(path) ? path : resolve(session.ctx.stageDir, path));
      }
      for (const file of files) if (isInside(session.ctx.stageDir, file)) files.delete(file);
    }
    return [...files];
  }

  /**
   * Watches exactly `files` (through their directories); resolves once the
   * watches are live, with whether a newly watched file changed between
   * being hashed and its watch going live (no event would tell).
   */
  private async updateWatched(files: readonly string[]): Promise<boolean> {
    const wanted = new Set(files);
    for (const file of [...this.known.keys()]) if (!wanted.has(file)) this.known.delete(file);
    const added = files.filter((f) => !this.known.has(f));
    // Files already known keep the hash taken before the config was loaded,
    // so an edit made while loading still counts as a change.
    for (const file of added) this.known.set(file, contentHash(file));
    const entries = new Map<string, Set<string>>();
    const entry = (path: string, file: string): void => void entries.set(path, (entries.get(path) ?? new Set()).add(file));
    for (const file of this.known.keys()) {
      entry(file, file);
      const real = resolvedPath(file);
      if (real !== file) entry(real, file);
    }
    this.entries = entries;
    await this.dirs.set(new Set([...entries.keys()].map((path) => dirname(path))));
    return added.some((file) => contentHash(file) !== this.known.get(file));
  }

  private async run(): Promise<void> {
    // Made before the config is loaded, so a stop while loading skips the graph.
    const abort = (this.runAbort = new AbortController());
    try {
      await this.runOnce(abort.signal);
    } finally {
      this.runAbort = undefined;
    }
  }

  private async runOnce(signal: AbortSignal): Promise<void> {
    const { print, json } = this.options;
    const stamp = new Date().toTimeString().slice(0, 8);
    // Record the content this run reads, so edits made during it trigger the queued run.
    for (const file of this.known.keys()) this.known.set(file, contentHash(file));
    this.eventFiles.clear();
    // Which content this run builds: a script can tell the run that read its last save.
    this.emitJson({ event: "run", reads: Object.fromEntries(this.known) });
    let session: Session;
    try {
      session = await this.options.open();
    } catch (error) {
      if (!isBottleError(error, "config")) throw error;
      if (json) print(JSON.stringify({ event: "config-error", file: error.detail.file, problems: error.detail.problems }));
      else print(`[${stamp}] ${error.message}\n  (the files from the last good build are untouched; fix the config and save to retry)`);
      if (await this.updateWatched(this.watchedFiles(this.session, [error.detail.file, ...(this.session?.loaded.files ?? [])]))) this.dispatch({ type: "change" });
      this.onRun?.({ ran: [], ok: false, configError: true });
      return;
    }
    this.session = session;
    if (await this.updateWatched(this.watchedFiles(session, session.loaded.files))) this.dispatch({ type: "change" });
    if (signal.aborted) return;

    const events: TaskEvent[] = [];
    let result: RunResult;
    let lock: StageLock | null;
    try {
      lock = await this.takeLock(session.ctx.stageDir, signal, stamp);
    } catch (error) {
      if (!isBottleError(error, "stage-busy")) throw error;
      print(json ? JSON.stringify({ event: "error", message: error.message }) : `[${stamp}] ${error.message}`);
      this.onRun?.({ ran: [], ok: false, configError: false });
      return;
    }
    if (!lock) return;
    try {
      result = await runGraph({
        tasks: session.backend.tasks,
        ctx: session.ctx,
        root: session.ctx.stageDir,
        targets: session.backend.buildTargets,
        lock: false,
        signal,
        onEvent: (event) => {
          if (event.type === "task") events.push(event);
          if (json && (event.type === "task" || event.type === "summary")) {
            print(JSON.stringify(event.type === "task" ? { event: "task", task: event.task, status: event.status, volatile: event.volatile, changed: event.changed, reasons: event.entry.reasons.map(describeReason), ms: event.ms } : { event: "summary", ran: event.ran, fresh: event.fresh, failed: event.failed, blocked: event.blocked, ms: event.ms }));
          }
        },
      });
    } finally {
      lock.release();
    }

    const shown = events.filter(meaningful);
    if (!json) {
      if (shown.length === 0 && !result.interrupted) print(`[${stamp}] nothing changed`);
      for (const event of shown) {
        const reasons = event.entry.reasons.map(describeReason).join("; ");
        if (event.status === "ran") print(`[${stamp}] ran ${event.task}: ${reasons} (${event.ms} ms)`);
        else if (event.status === "failed") print(`[${stamp}] ${event.task} FAILED: ${event.failure?.message ?? ""}`);
        else print(`[${stamp}] ${event.task} blocked: ${reasons}`);
      }
    }
    const ranEvents = shown.filter((e) => e.status === "ran");
    const ran = ranEvents.map((e) => e.task);
    if (result.ok && ran.length && session.backend.applyLive) {
      const changes = ranEvents.map((e) => ({ task: e.task, reasons: e.entry.reasons.map(describeReason) }));
      for (const line of await session.backend.applyLive(session.ctx, changes)) {
        print(json ? JSON.stringify({ event: "live", message: line }) : `[${stamp}] ${line}`);
      }
    }
    this.onRun?.({ ran, ok: result.ok, configError: false });
  }
}
