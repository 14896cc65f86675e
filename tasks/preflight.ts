import { checkPreflight, type PreflightReport } from "../src/backends/smolmachines/preflight.js";
import { describeTools, toolVersions } from "../src/backends/smolmachines/tool-versions.js";
import { buildTask } from "./define.js";

/**
 * The host programs launch needs (on PATH, then bottle's .tools/bin), where
 * each was found and its version. A warning for `build`, fatal for `launch`.
 */
export const preflight = buildTask({
  name: "preflight",
  description: "smolvm, gvproxy, pipelock (and bwrap on Linux) on PATH or in .tools/bin, their versions, and the gvforwarder file",
  version: 2,
  volatile: true,
  inputs: ({ config }) => ({ guest: { gvforwarder: config.guest.gvforwarder } }),
  run: async ({ ctx, previous, log }): Promise<PreflightReport> => {
    const result = checkPreflight({ platform: ctx.platform, pathEnv: ctx.pathEnv, gvforwarder: ctx.config.guest.gvforwarder });
    const versions = await toolVersions(result.found, previous?.versions);
    const lines = Object.keys(versions).length > 0 ? [describeTools(versions)] : [];
    const missing = result.missing.map((m) => m.name);
    if (missing.length) lines.push(`missing: ${missing.join(", ")} (bottle launch needs ${missing.length === 1 ? "it" : "them"}; \`bottle doctor\` says how to install)`);
    if (lines.length) log(lines.join("\n"));
    return { ...result, versions };
  },
});
