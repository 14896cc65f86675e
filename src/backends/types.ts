// What a backend gives the CLI: its task graph, which targets each command
// runs, and the lifecycle operations. The CLI knows nothing else about it.
import type { BottleContext } from "../context.js";
import type { Json, TaskDef } from "../graph/index.js";
import type { BottleEntry } from "../registry.js";
import type { EngineEvent } from "../graph/index.js";

export interface LaunchView {
  onEvent(event: EngineEvent): void;
  /** Stops drawing so the agent can have the terminal. */
  release(): Promise<void>;
  finished(): Promise<void>;
}

export interface LaunchRequest {
  ctx: BottleContext;
  mode: "launch" | "resume";
  unsafeNoJail: boolean;
  view: LaunchView;
  lockTimeoutMs: number;
  say(message: string): void;
  /** Runs beside the agent once it is attached (launch --watch). */
  beside?: (signal: AbortSignal) => Promise<void>;
}

export interface RanTask {
  task: string;
  /** Why it ran, in words (`input \`agent.env.A\` changed`). */
  reasons: string[];
}

/** A running bottle's git gate, as `ls` shows it: its port and each remote's upstream. */
export interface GitGateSummary {
  port: number;
  remotes: { name: string; upstream: string }[];
}

export interface Backend {
  readonly name: string;
  readonly tasks: readonly TaskDef<BottleContext>[];
  /** What `bottle build` renders. */
  readonly buildTargets: readonly string[];
  /** A warning for the build summary from the tasks' results, e.g. missing binaries; null when none. */
  buildWarning(results: Readonly<Record<string, Json>>): string | null;
  /** Runs the launch graph and the agent; resolves with the exit code. */
  launch(request: LaunchRequest): Promise<number>;
  /** A bottle's state; "refused" (with why) when its registry entry or run dir cannot be trusted, so one bad entry never hides the others. */
  state(entry: BottleEntry): Promise<{
    state: "running" | "stopped" | "stale" | "refused";
    why?: string;
    pid?: number;
    ports?: Record<string, number>;
    /** The running bottle's git gate: its port and each remote's upstream. */
    gitGate?: GitGateSummary;
  }>;
  stop(entry: BottleEntry, say: (line: string) => void): Promise<void>;
  /**
   * Watch mode, after a run re-rendered `ran` (each with the reasons it ran)
   * while the bottle may be running: apply what can be applied live; return
   * one line per change.
   */
  applyLive?(ctx: BottleContext, ran: readonly RanTask[]): Promise<string[]>;
  remove(entry: BottleEntry, say: (line: string) => void): Promise<void>;
}
