// `bottle build`, `graph` and `explain` over a session: the build graph run
// (or planned), and the plan of every task.
import { planGraph, type Plan, type RunResult } from "../graph/index.js";
import { runBottleGraph, type GraphView } from "./graph-runner.js";
import type { Session } from "./session.js";

/** Renders everything a launch needs, redoing only what changed; with the backend's warning (missing programs). */
export async function buildBottle(session: Session, options: { force: true | string[] | undefined; view: GraphView; signal: AbortSignal }): Promise<{ result: RunResult; warning: string | null }> {
  const { backend, ctx } = session;
  const result = await runBottleGraph({ tasks: backend.graph.buildTasks, ctx, force: options.force, view: options.view, signal: options.signal, lock: { command: "bottle build" } });
  await options.view.finished();
  return { result, warning: backend.buildWarning(result.results) };
}

/** What a build would do (a dry run). */
export function planBuild(session: Session, force: true | string[] | undefined): Plan {
  return planGraph({ tasks: session.backend.graph.buildTasks, ctx: session.ctx, root: session.ctx.stageDir, ...(force ? { force } : {}) });
}

/** Every task's plan (`graph`, `explain`), or only `targets` and what they need. */
export function planBottle(session: Session, targets?: readonly string[]): Plan {
  return planGraph({ tasks: session.backend.graph.allTasks, ctx: session.ctx, root: session.ctx.stageDir, ...(targets ? { targets } : {}) });
}
