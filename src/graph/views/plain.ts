// One line per event, for logs and CI (no TTY, or CI set).
import type { EngineEvent } from "../events.js";
import { describeReason } from "../reasons.js";

type TaskEvent = Extract<EngineEvent, { type: "task" }>;

function taskLine(event: TaskEvent): string {
  const reasons = event.entry.reasons.map(describeReason).join("; ");
  switch (event.status) {
    case "fresh":
      return `fresh    ${event.task}`;
    case "ran": {
      const cutoff = event.changed ? "" : "; same result as before";
      const note = event.note ? `\n         note: ${event.note}` : "";
      return `ran      ${event.task} (${reasons}${cutoff}) ${event.ms} ms${note}`;
    }
    case "failed":
      return `FAILED   ${event.task}: ${event.failure?.message ?? "failed"}`.replace(/\n/g, "\n         ");
    case "blocked":
      return `blocked  ${event.task} (${reasons})`;
  }
}

export function plainLine(event: EngineEvent): string | null {
  switch (event.type) {
    case "begin":
    case "start":
      return null;
    case "warning":
      return `warning: ${event.message}`;
    case "log":
      return `         ${event.task}: ${event.message}`;
    case "task":
      return taskLine(event);
    case "summary": {
      const verdict = event.failed || event.blocked ? "failed" : "done";
      return `${verdict}: ${event.ran} ran, ${event.fresh} fresh, ${event.failed} failed, ${event.blocked} blocked in ${event.ms} ms`;
    }
  }
}

export function plainView(write: (line: string) => void): (event: EngineEvent) => void {
  return (event) => {
    const line = plainLine(event);
    if (line !== null) write(line);
  };
}
