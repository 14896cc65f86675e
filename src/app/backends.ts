// The backends bottle knows (the seed's _BACKENDS), each the task graph of
// tasks/ joined with the backend's operations. They load lazily, so naming
// one costs nothing until it is used.
import type { BlockedReport } from "../backends/smolmachines/blocked/records.js";
import type { BottleLogs } from "../backends/smolmachines/bottle-logs.js";
import type { BuildContext } from "../backends/smolmachines/context.js";
import type { BottlePlace, BottleState } from "../backends/smolmachines/lifecycle.js";
import type { GitGateSummary } from "../backends/smolmachines/launch-record.js";
import type { RanTask } from "../backends/smolmachines/live.js";
import type { EffectivePolicy } from "../backends/smolmachines/policy.js";
import type { Json, TaskDeclaration } from "../graph/index.js";
import { usageError } from "../lib/errors.js";
import type { BuildTask, LaunchStep } from "../../tasks/index.js";
import type { LaunchRequest } from "./launch/launch.js";
import type { Session } from "./session.js";

/** The bottle's graph: what `build` (and watch) runs, and the steps a launch runs on top, to its target. */
export interface BottleGraph {
  readonly buildTasks: readonly BuildTask[];
  readonly launchSteps: readonly LaunchStep[];
  readonly launchTarget: string;
  /** Every task, for plans (`graph`, `explain`, `policy`): only their declarations are read. */
  readonly allTasks: readonly TaskDeclaration<BuildContext>[];
}

/** A bottle's state for `ls`; "refused" (with why) when its registry entry or run dir cannot be trusted, so one bad entry never hides the others. */
export interface BottleStatus {
  state: BottleState | "refused";
  why?: string;
  pid?: number;
  ports?: Record<string, number>;
  /** The running bottle's git gate: its port and each remote's upstream. */
  gitGate?: GitGateSummary;
}

export interface Backend {
  readonly name: string;
  readonly graph: BottleGraph;
  /** A warning for the build summary from the tasks' results, e.g. missing binaries; null when none. */
  buildWarning(results: Readonly<Record<string, Json>>): string | null;
  /** Runs the launch graph and the agent; resolves with the exit code. */
  launch(session: Session, request: LaunchRequest): Promise<number>;
  /** A checked bottle's state (a BottleError when its run dir is unsafe). */
  state(place: BottlePlace): Promise<Omit<BottleStatus, "state"> & { state: BottleState }>;
  stop(place: BottlePlace, say: (line: string) => void): Promise<void>;
  /** Why its dirs may not be deleted as its own, or null. */
  removalProblem(place: BottlePlace): Promise<string | null>;
  /** Deletes its machine and files; `searchPath` is where its programs may be run from. */
  remove(place: BottlePlace, searchPath: string, say: (line: string) => void): Promise<void>;
  /** Watch mode, after a run re-rendered `ran` while the bottle may be running: apply what can be applied live; one line per change. */
  applyLive(ctx: BuildContext, ran: readonly RanTask[]): Promise<string[]>;
  /** The effective policy, read from the rendered files (a BottleError when they are not rendered yet). */
  policy(ctx: BuildContext): Promise<EffectivePolicy>;
  /** What pipelock refused in the running or last session, read from the stage (never evaluates the config). */
  blocked(place: BottlePlace): Promise<BlockedReport>;
  /** The bottle's log files, and how to tell when the running bottle stops. */
  logs(place: BottlePlace): Promise<BottleLogs>;
}

const BACKENDS: Record<string, () => Promise<Backend>> = {
  smolmachines: async () => (await import("./smolmachines.js")).smolmachines,
};

export const BACKEND_ENV = "BOTTLE_BACKEND";

export function backendNames(): string[] {
  return Object.keys(BACKENDS).sort();
}

/** The backend to use: BOTTLE_BACKEND overrides the config's choice. */
export function chooseBackendName(configured: string, env: NodeJS.ProcessEnv = process.env): { name: string; source: string } {
  const fromEnv = env[BACKEND_ENV];
  return fromEnv ? { name: fromEnv, source: `${BACKEND_ENV}=${fromEnv}` } : { name: configured, source: "the config's `backend`" };
}

export async function loadBackend(name: string, source = "backend"): Promise<Backend> {
  const load = BACKENDS[name];
  if (!load) throw usageError(`unknown backend \`${name}\` (from ${source}); known backends: ${backendNames().join(", ")}`);
  return load();
}
