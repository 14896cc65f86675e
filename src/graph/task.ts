// What a task declares. The engine is generic: `C` is whatever context the
// caller hands every task (for bottle: the config and the stage paths).
import type { Json } from "./json.js";

export interface TaskDef<C> {
  readonly name: string;
  readonly needs?: readonly string[];
  /** Bump when the task's logic changes, so old results are not reused. */
  readonly version: number;
  /** Re-checked on every run because the world can change under it. */
  readonly volatile?: boolean;
  /** One line for `graph` and `explain`. */
  readonly description?: string;
  /** The slice of configuration the task reads; nested keys name inputs in reasons (`agent.env.FOO`). */
  inputs?(ctx: C): { [key: string]: Json };
  /** Files the task reads (absolute, or relative to the stage dir). */
  reads?(ctx: C): readonly string[];
  /** Files the task writes, relative to the stage dir. Each must be written by every run. */
  writes?(ctx: C): readonly string[];
  run(run: TaskRun<C>): Promise<Json> | Json;
}

export interface WriteOptions {
  /** File mode; 0600 unless the task says otherwise. */
  mode?: number;
}

export interface TaskRun<C> {
  readonly ctx: C;
  /** Results of the tasks this one needs, by name. */
  readonly needs: Readonly<Record<string, Json>>;
  /** This task's result from its last successful run, if any. */
  readonly previous: Json | undefined;
  readonly signal: AbortSignal;
  /** Atomically writes a declared output (temp file + rename). */
  write(path: string, content: string | Uint8Array, options?: WriteOptions): void;
  /** Atomically copies a file to a declared output. */
  copy(from: string, path: string, options?: WriteOptions): void;
  /** Absolute path of a file in the stage dir. */
  path(relative: string): string;
  /** A progress line shown under the task. */
  log(message: string): void;
}

/** Why a task did not succeed, as a value. */
export type FailureReason = "threw" | "undeclared-write" | "missing-output" | "outside-stage" | "bad-result" | "interrupted";

export interface TaskFailure {
  reason: FailureReason;
  message: string;
  cause?: unknown;
}
