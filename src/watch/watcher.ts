// `bottle watch`: build once, then watch the config, the files it imports
// and the files tasks read; on a real content change re-load the config in
// this process, re-plan and run only what is not fresh. Driven by the pure
// state machine in machine.ts.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { FSWatcher } from "chokidar";
import { ConfigError } from "../config/load.js";
import type { EngineEvent, RunResult } from "../graph/index.js";
import { LockTimeoutError, describeReason, runGraph } from "../graph/index.js";
import { transition, type Effect, type WatchEvent, type WatchState } from "./machine.js";
import type { Session } from "../cli/session.js";

export interface WatchOptions {
  /** Loads the config afresh and opens the bottle (throws ConfigError on bad config). */
  open(): Promise<Session>;
  json: boolean;
  debounceMs?: number;
  lockTimeoutMs: number;
  signal: AbortSignal;
  print(line: string): void;
}

type TaskEvent = Extract<EngineEvent, { type: "task" }>;

function contentHash(path: string): string {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return "missing";
  }
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** What a run did that a person cares about: tasks that really changed something. */
export function meaningful(event: TaskEvent): boolean {
  return event.status === "failed" || event.status === "blocked" || (event.status === "ran" && (!event.volatile || event.changed));
}

export class BottleWatcher {
  private state: WatchState = "idle";
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private session: Session | undefined;
  private readonly known = new Map<string, string>();
  private runAbort: AbortController | undefined;
  private exit!: () => void;
  private readonly exited = new Promise<void>((resolve) => (this.exit = resolve));
  private readonly debounceMs: number;
  /** For tests and the benchmark: called after each run with what it did. */
  onRun: ((outcome: { ran: string[]; ok: boolean; configError: boolean }) => void) | undefined;

  constructor(private readonly options: WatchOptions) {
    this.debounceMs = options.debounceMs ?? 50;
  }

  async start(): Promise<void> {
    const { watch } = await import("chokidar");
    this.watcher = watch([], { ignoreInitial: true, atomic: true });
    this.watcher.on("all", (_event, path) => this.onFileEvent(resolve(path)));
    this.options.signal.addEventListener("abort", () => this.dispatch({ type: "stop" }), { once: true });
    this.state = "running";
    await this.run();
    if (this.options.signal.aborted) this.dispatch({ type: "stop" });
    else this.dispatch({ type: "done" });
    await this.exited;
    await this.watcher.close();
  }

  private onFileEvent(path: string): void {
    if (!this.known.has(path)) return;
    // A touch, a save without edits, an editor's rename dance: same content, no run.
    if (contentHash(path) === this.known.get(path)) {
      this.emitJson({ event: "ignored", file: path, reason: "content unchanged" });
      return;
    }
    this.dispatch({ type: "change" });
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
        this.timer = setTimeout(() => this.dispatch({ type: "timer" }), this.debounceMs);
        return;
      case "cancel-timer":
        clearTimeout(this.timer);
        return;
      case "run":
        void this.run().then(() => this.dispatch({ type: "done" }));
        return;
      case "abort-run":
        this.runAbort?.abort();
        return;
      case "exit":
        clearTimeout(this.timer);
        this.exit();
        return;
    }
  }

  /** Files whose content the next run depends on (never the stage's own outputs). */
  private watchedFiles(session: Session | undefined, configFiles: readonly string[]): string[] {
    const files = new Set(configFiles);
    if (session) {
      for (const task of session.backend.tasks) {
        for (const path of task.reads?.(session.ctx) ?? []) files.add(isAbsolute(path) ? path : resolve(session.ctx.stageDir, path));
      }
      for (const file of files) if (inside(session.ctx.stageDir, file)) files.delete(file);
    }
    return [...files];
  }

  private updateWatched(files: readonly string[]): void {
    const wanted = new Set(files);
    const gone = [...this.known.keys()].filter((f) => !wanted.has(f));
    if (gone.length) this.watcher?.unwatch(gone);
    for (const file of gone) this.known.delete(file);
    const added = files.filter((f) => !this.known.has(f));
    // Files already known keep the hash taken before the config was loaded,
    // so an edit made while loading still counts as a change.
    for (const file of added) this.known.set(file, contentHash(file));
    if (added.length) this.watcher?.add(added);
  }

  private async run(): Promise<void> {
    const { print, json } = this.options;
    const stamp = new Date().toTimeString().slice(0, 8);
    // Record the content this run reads, so edits made during it trigger the queued run.
    for (const file of this.known.keys()) this.known.set(file, contentHash(file));
    let session: Session;
    try {
      session = await this.options.open();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (json) print(JSON.stringify({ event: "config-error", file: error.file, problems: error.problems }));
      else print(`[${stamp}] ${error.message}\n  (the files from the last good build are untouched; fix the config and save to retry)`);
      this.updateWatched(this.watchedFiles(this.session, [error.file, ...(this.session?.loaded.files ?? [])]));
      this.onRun?.({ ran: [], ok: false, configError: true });
      return;
    }
    this.session = session;
    this.updateWatched(this.watchedFiles(session, session.loaded.files));

    const events: TaskEvent[] = [];
    this.runAbort = new AbortController();
    let result: RunResult;
    try {
      result = await runGraph({
        tasks: session.backend.tasks,
        ctx: session.ctx,
        root: session.ctx.stageDir,
        targets: session.backend.buildTargets,
        lock: { command: "bottle watch", timeoutMs: this.options.lockTimeoutMs },
        signal: this.runAbort.signal,
        onEvent: (event) => {
          if (event.type === "task") events.push(event);
          if (json && (event.type === "task" || event.type === "summary")) {
            print(JSON.stringify(event.type === "task" ? { event: "task", task: event.task, status: event.status, volatile: event.volatile, changed: event.changed, reasons: event.entry.reasons.map(describeReason), ms: event.ms } : { event: "summary", ran: event.ran, fresh: event.fresh, failed: event.failed, blocked: event.blocked, ms: event.ms }));
          }
        },
      });
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      print(json ? JSON.stringify({ event: "error", message: error.message }) : `[${stamp}] ${error.message}`);
      this.onRun?.({ ran: [], ok: false, configError: false });
      return;
    } finally {
      this.runAbort = undefined;
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
    const ran = shown.filter((e) => e.status === "ran").map((e) => e.task);
    if (result.ok && ran.length && session.backend.applyLive) {
      for (const line of await session.backend.applyLive(session.ctx, ran)) {
        print(json ? JSON.stringify({ event: "live", message: line }) : `[${stamp}] ${line}`);
      }
    }
    this.onRun?.({ ran, ok: result.ok, configError: false });
  }
}
