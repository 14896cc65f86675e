// The smolmachines backend, as the app uses it: the graph of tasks/ (whose
// steps call into src/backends/smolmachines) and the backend's lifecycle
// operations. The process side loads only when a command needs it, so
// `bottle build` does not pay for it.
import { formatPreflight } from "../backends/smolmachines/preflight.js";
import { toolsDir } from "../lib/host-tools.js";
import { resultOf } from "../graph/index.js";
import { buildTasks, launchSteps, launchTarget, preflight } from "../../tasks/index.js";
import type { Backend } from "./backends.js";

export const smolmachines: Backend = {
  name: "smolmachines",
  graph: { buildTasks, launchSteps, launchTarget: launchTarget.name, allTasks: [...buildTasks, ...launchSteps] },
  buildWarning(results) {
    const report = resultOf(results, preflight);
    if (!report || report.ok) return null;
    return `${formatPreflight(report, { toolsDir: toolsDir() })}\nThe files are rendered, but \`bottle launch\` will fail until these are installed.`;
  },
  launch: async (session, request) => (await import("./launch/launch.js")).runLaunch(session, request),
  state: async (place) => {
    const { bottleState } = await import("../backends/smolmachines/lifecycle.js");
    const { state, record, why } = bottleState(place);
    return {
      state,
      ...(why ? { why } : {}),
      ...(record ? { pid: record.pid, ports: record.ports } : {}),
      ...(state === "running" && record?.gitGate ? { gitGate: record.gitGate } : {}),
    };
  },
  stop: async (place, say) => (await import("../backends/smolmachines/lifecycle.js")).stopBottle(place, say),
  removalProblem: async (place) => (await import("../backends/smolmachines/lifecycle.js")).removalProblem(place),
  remove: async (place, searchPath, say) => (await import("../backends/smolmachines/lifecycle.js")).removeBottle(place, searchPath, say),
  applyLive: async (ctx, ran) => (await import("../backends/smolmachines/live.js")).applyLive(ctx, ran),
  policy: async (ctx) => (await import("../backends/smolmachines/policy.js")).effectivePolicy(ctx),
  blocked: async (place) => (await import("../backends/smolmachines/blocked/stored.js")).storedRefusals(place),
  logs: async (place) => (await import("../backends/smolmachines/bottle-logs.js")).bottleLogs(place),
};
