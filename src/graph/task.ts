// What a task declares. The engine is generic: `C` is what a task's
// declarations (inputs, reads, writes) are given, and `RC` what its run is
// given, which may hold more (for bottle: the config and the stage paths;
// a launch adds its services). typed.ts builds these from typed task specs.
import type { Json } from "./json.js";

/** Everything about a task but its run: what planning, `graph` and `explain` read. */
export interface TaskDeclaration<C> {
  readonly name: string;
  /** The tasks whose results it needs, by name. */
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
}

export interface TaskDef<C, RC extends C = C> extends TaskDeclaration<C> {
  run(run: TaskRun<RC>): Promise<Json> | Json;
}

export interface WriteOptions {
  /** File mode; 0600 unless the task says otherwise. */
  mode?: number;
}

export interface TaskRun<C> {
  readonly ctx: C;
  /** Results of the tasks this one needs, by name. */
  readonly needs: Readonly<Record<string, Json>>;
  /** This task's result from its last successful run of the same version, if any. */
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
