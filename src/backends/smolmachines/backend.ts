// The smolmachines backend: smolvm microVM, gvproxy in a jail, pipelock.
// The process side loads only when a command needs it, so `bottle build`
// does not pay for it.
import { BottleError } from "../../errors.js";
import { BUILD_TARGETS, LAUNCH_TARGET, buildTasks, launchTasks } from "../../../tasks/index.js";
import type { Backend } from "../types.js";
import { toolsDir } from "../../host-tools.js";
import { formatPreflight, type PreflightResult } from "./preflight.js";

export const smolmachines: Backend = {
  name: "smolmachines",
  tasks: [...buildTasks, ...launchTasks],
  buildTargets: BUILD_TARGETS,
  buildWarning(results) {
    const preflight = results.preflight as unknown as PreflightResult | undefined;
    if (!preflight || preflight.ok) return null;
    return `${formatPreflight(preflight, { toolsDir: toolsDir() })}\nThe files are rendered, but \`bottle launch\` will fail until these are installed.`;
  },
  launch: async (request) => (await import("./launch/run-launch.js")).runLaunch({ ...request, tasks: smolmachines.tasks, target: LAUNCH_TARGET }),
  state: async (entry) => {
    const { bottleState } = await import("./lifecycle.js");
    let found: ReturnType<typeof bottleState>;
    try {
      found = bottleState(entry);
    } catch (error) {
      if (error instanceof BottleError) return { state: "refused", why: error.message };
      throw error;
    }
    const { state, record, why } = found;
    return {
      state,
      ...(why ? { why } : {}),
      ...(record ? { pid: record.pid, ports: record.ports } : {}),
      ...(state === "running" && record?.gitGate ? { gitGate: record.gitGate } : {}),
    };
  },
  stop: async (entry, say) => (await import("./lifecycle.js")).stopBottle(entry, say),
  remove: async (entry, say) => (await import("./lifecycle.js")).removeBottle(entry, say),
  applyLive: async (ctx, ran) => (await import("./live.js")).applyLive(ctx, ran),
  policy: async (ctx) => (await import("./policy.js")).effectivePolicy(ctx),
  blocked: async (entry) => (await import("./blocked/stored.js")).storedRefusals(entry),
  logs: async (entry) => (await import("./bottle-logs.js")).bottleLogs(entry),
};
