// NDJSON: one object per finished task, then a summary.
import type { EngineEvent } from "../events.js";
import { describeReason } from "../reasons.js";

export function jsonLine(event: EngineEvent): string | null {
  switch (event.type) {
    case "task":
      return JSON.stringify({
        event: "task",
        task: event.task,
        status: event.status,
        volatile: event.volatile,
        changed: event.changed,
        reasons: event.entry.reasons.map(describeReason),
        ms: event.ms,
        ...(event.failure ? { error: event.failure.message } : {}),
      });
    case "summary":
      return JSON.stringify({ event: "summary", ran: event.ran, fresh: event.fresh, failed: event.failed, blocked: event.blocked, ms: event.ms });
    default:
      return null;
  }
}

export function jsonView(write: (line: string) => void): (event: EngineEvent) => void {
  return (event) => {
    const line = jsonLine(event);
    if (line !== null) write(line);
  };
}
