// What watch mode says: plain lines stamped with the time, or with --json
// NDJSON events (the engine's task and summary events, and the watcher's
// own: state, run, ignored, waiting, config-error, error, live) that
// scripts and tests can wait on.
import type { EngineEvent, LockHolder } from "../../graph/index.js";
import { describeReason } from "../../graph/index.js";

type TaskEvent = Extract<EngineEvent, { type: "task" }>;

/** What a run did that a person cares about: tasks that really changed something (a volatile one that found the same is not news). */
export function worthShowing(event: TaskEvent): boolean {
  return event.status === "failed" || event.status === "blocked" || (event.status === "ran" && (!event.volatile || event.changed));
}

const timeOfDay = (): string => new Date().toTimeString().slice(0, 8);

export class WatchOutput {
  constructor(
    private readonly json: boolean,
    private readonly print: (line: string) => void,
  ) {}

  /** An event only NDJSON shows. */
  private event(event: Record<string, unknown>): void {
    if (this.json) this.print(JSON.stringify(event));
  }

  /** `text` in plain mode (stamped `stamp`), `event` with --json. */
  private either(event: Record<string, unknown>, text: string, stamp = timeOfDay()): void {
    this.print(this.json ? JSON.stringify(event) : `[${stamp}] ${text}`);
  }

  state(state: string): void {
    this.event({ event: "state", state });
  }

  ignored(file: string): void {
    this.event({ event: "ignored", file, reason: "content unchanged" });
  }

  /** Which content a run builds: a script can tell the run that read its last save. */
  runStarted(reads: Record<string, string>): void {
    this.event({ event: "run", reads });
  }

  configError(error: { message: string; detail: { file: string; problems: readonly unknown[] } }, stamp: string): void {
    if (this.json) this.print(JSON.stringify({ event: "config-error", file: error.detail.file, problems: error.detail.problems }));
    else this.print(`[${stamp}] ${error.message}\n  (the files from the last good build are untouched; fix the config and save to retry)`);
  }

  waiting(lock: string, stageDir: string, holder: LockHolder | null, stamp: string): void {
    const who = holder ? `pid ${holder.pid} (${holder.command})` : "another process";
    this.either({ event: "waiting", lock, holder: holder ? { pid: holder.pid, command: holder.command } : null }, `waiting for ${stageDir}: in use by ${who}`, stamp);
  }

  /** A run that could not happen, or failed unexpectedly. */
  error(message: string, stamp?: string): void {
    this.either({ event: "error", message }, `error: ${message}`, stamp);
  }

  /** A stage that stayed busy: its message as it is. */
  busy(message: string, stamp: string): void {
    this.either({ event: "error", message }, message, stamp);
  }

  /** The engine's events, as `--json` shows them (as `bottle build --json`). */
  engine(event: EngineEvent): void {
    if (event.type === "task") {
      this.event({ event: "task", task: event.task, status: event.status, volatile: event.volatile, changed: event.changed, reasons: event.entry.reasons.map(describeReason), ms: event.ms });
    } else if (event.type === "summary") {
      this.event({ event: "summary", ran: event.ran, fresh: event.fresh, failed: event.failed, blocked: event.blocked, ms: event.ms });
    }
  }

  /** What a finished run did, in plain lines (NDJSON has said it task by task). */
  ran(shown: readonly TaskEvent[], interrupted: boolean, stamp: string): void {
    if (this.json) return;
    if (shown.length === 0 && !interrupted) this.print(`[${stamp}] nothing changed`);
    for (const event of shown) {
      const reasons = event.entry.reasons.map(describeReason).join("; ");
      if (event.status === "ran") this.print(`[${stamp}] ran ${event.task}: ${reasons} (${event.ms} ms)`);
      else if (event.status === "failed") this.print(`[${stamp}] ${event.task} FAILED: ${event.failure?.message ?? ""}`);
      else this.print(`[${stamp}] ${event.task} blocked: ${reasons}`);
    }
  }

  live(message: string, stamp: string): void {
    this.either({ event: "live", message }, message, stamp);
  }
}
