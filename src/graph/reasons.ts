// Why a task will run (or is blocked), as values, and their wording.
import { unreachable } from "../lib/errors.js";

export type Reason =
  | { kind: "never-ran" }
  | { kind: "last-run-failed"; message: string }
  | { kind: "forced" }
  | { kind: "volatile" }
  | { kind: "version-changed"; from: number; to: number }
  | { kind: "input-changed" | "input-added" | "input-removed"; input: string }
  | { kind: "file-changed" | "file-appeared" | "file-deleted" | "file-added" | "file-dropped"; file: string }
  | { kind: "need-changed"; need: string }
  | { kind: "output-modified" | "output-deleted" | "output-added"; file: string }
  | { kind: "output-mode"; file: string; was: number; now: number }
  | { kind: "changed-while-running"; file: string }
  | { kind: "blocked-by"; need: string }
  | { kind: "interrupted" };

const mode = (m: number): string => `0${m.toString(8)}`;

export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case "never-ran":
      return "never ran";
    case "last-run-failed":
      return `its last run failed (${reason.message.split("\n")[0]})`;
    case "forced":
      return "forced";
    case "volatile":
      return "volatile: re-checked every run";
    case "version-changed":
      return `its logic changed (version ${reason.from} → ${reason.to})`;
    case "input-changed":
      return `input \`${reason.input}\` changed`;
    case "input-added":
      return `input \`${reason.input}\` was added`;
    case "input-removed":
      return `input \`${reason.input}\` was removed`;
    case "file-changed":
      return `file \`${reason.file}\` changed`;
    case "file-appeared":
      return `file \`${reason.file}\` appeared`;
    case "file-deleted":
      return `file \`${reason.file}\` was deleted`;
    case "file-added":
      return `now reads file \`${reason.file}\``;
    case "file-dropped":
      return `no longer reads file \`${reason.file}\``;
    case "need-changed":
      return `needs \`${reason.need}\`, whose result changed`;
    case "output-modified":
      return `output \`${reason.file}\` was modified`;
    case "output-deleted":
      return `output \`${reason.file}\` was deleted`;
    case "output-added":
      return `new output \`${reason.file}\``;
    case "output-mode":
      return `output \`${reason.file}\` has mode ${mode(reason.now)}, not ${mode(reason.was)}`;
    case "changed-while-running":
      return `file \`${reason.file}\` changed while it last ran`;
    case "blocked-by":
      return `needs \`${reason.need}\`, which did not succeed`;
    case "interrupted":
      return "interrupted before it could run";
    default:
      return unreachable(reason);
  }
}
