// How the bottle's tasks are made. A build task is given the build's
// context; a launch step's run is given the launch's too (its services),
// while its declarations see only the build's, so `graph` and `explain`
// can plan it without launching.
import type { BuildContext } from "../src/backends/smolmachines/context.js";
import type { ReloadableSidecar } from "../src/backends/smolmachines/sidecar-names.js";
import type { LaunchContext } from "../src/backends/smolmachines/steps/services.js";
import { taskDefiner, type TaskDef } from "../src/graph/index.js";

export const buildTask = taskDefiner<BuildContext>();
export const launchStep = taskDefiner<BuildContext, LaunchContext>();

/** A build task, and whether a running bottle takes its output live: `liveReload` names the sidecar that reloads it. */
export type BuildTask = TaskDef<BuildContext> & { readonly liveReload?: ReloadableSidecar };
export type LaunchStep = TaskDef<BuildContext, LaunchContext>;

/** `task`, whose output the running bottle's `sidecar` takes when it reloads (watch mode applies it live). */
export function reloadedLive<T extends TaskDef<BuildContext>>(sidecar: ReloadableSidecar, task: T): T & { readonly liveReload: ReloadableSidecar } {
  return { ...task, liveReload: sidecar };
}
