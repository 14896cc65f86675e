// The smolmachines backend: smolvm microVM, gvproxy in a jail, pipelock.
import { BUILD_TARGETS, buildTasks } from "../../../tasks/index.js";
import type { Backend } from "../types.js";
import { formatPreflight, type PreflightResult } from "./preflight.js";

export const smolmachines: Backend = {
  name: "smolmachines",
  tasks: buildTasks,
  buildTargets: BUILD_TARGETS,
  buildWarning(results) {
    const preflight = results.preflight as unknown as PreflightResult | undefined;
    if (!preflight || preflight.ok) return null;
    return `${formatPreflight(preflight, { backendEnv: "BOTTLE_BACKEND", backend: "smolmachines" })}\nThe files are rendered, but \`bottle launch\` will fail until these are installed.`;
  },
};
