// The smolmachines backend: smolvm microVM, gvproxy in a jail, pipelock.
import { BUILD_TARGETS, LAUNCH_TARGET, buildTasks, launchTasks } from "../../../tasks/index.js";
import type { Backend } from "../types.js";
import { runLaunch } from "./launch/run-launch.js";
import { bottleState, removeBottle, stopBottle } from "./lifecycle.js";
import { applyLive } from "./live.js";
import { formatPreflight, type PreflightResult } from "./preflight.js";

export const smolmachines: Backend = {
  name: "smolmachines",
  tasks: [...buildTasks, ...launchTasks],
  buildTargets: BUILD_TARGETS,
  buildWarning(results) {
    const preflight = results.preflight as unknown as PreflightResult | undefined;
    if (!preflight || preflight.ok) return null;
    return `${formatPreflight(preflight, { backendEnv: "BOTTLE_BACKEND", backend: "smolmachines" })}\nThe files are rendered, but \`bottle launch\` will fail until these are installed.`;
  },
  launch: (request) => runLaunch({ ...request, tasks: smolmachines.tasks, target: LAUNCH_TARGET }),
  state(entry) {
    const { state, record, why } = bottleState(entry);
    return { state, ...(why ? { why } : {}), ...(record ? { pid: record.pid, ports: record.ports } : {}) };
  },
  stop: stopBottle,
  remove: removeBottle,
  applyLive,
};
