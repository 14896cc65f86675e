// What the executor tells its views. Execution never prints; a view turns
// these into listr2 output, plain lines or NDJSON.
import type { PlanEntry } from "./plan.js";
import type { TaskFailure } from "./task.js";

export type TaskStatus = "ran" | "fresh" | "failed" | "blocked";

export interface Summary {
  ran: number;
  fresh: number;
  failed: number;
  blocked: number;
  ms: number;
}

export type EngineEvent =
  | { type: "begin"; tasks: readonly PlanEntryStub[] }
  | { type: "warning"; message: string }
  | { type: "start"; task: string; entry: PlanEntry }
  | { type: "log"; task: string; message: string }
  | {
      type: "task";
      task: string;
      status: TaskStatus;
      volatile: boolean;
      /** The task ran and its result differs from the previous one. */
      changed: boolean;
      entry: PlanEntry;
      ms: number;
      failure?: TaskFailure;
      /** Something worth saying about a success (e.g. an input changed while it ran). */
      note?: string;
    }
  | ({ type: "summary" } & Summary);

/** What a view needs to lay out the run before any task is decided. */
export interface PlanEntryStub {
  task: string;
  description: string | undefined;
  needs: readonly string[];
  volatile: boolean;
}
