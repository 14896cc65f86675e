import { checkPreflight, type PreflightReport } from "../src/backends/smolmachines/preflight.js";
import { assertPreflight } from "../src/backends/smolmachines/steps/preflight-check.js";
import { isLaunchContext } from "../src/backends/smolmachines/steps/services.js";
import { describeTools, toolVersions } from "../src/backends/smolmachines/tool-versions.js";
import { buildTask } from "./define.js";

/**
 * The host programs launch needs (on PATH, then bottle's .tools/bin), where
 * each was found and its version. A warning for `build`; for `launch` a
 * missing one fails here, before any step starts a process.
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
    if (isLaunchContext(ctx)) {
      if (lines.length) log(lines.join("\n"));
      assertPreflight(result, { unsafeNoJail: ctx.launch.unsafeNoJail });
      return { ...result, versions };
    }
    const missing = result.missing.map((m) => m.name);
    if (missing.length) lines.push(`missing: ${missing.join(", ")} (bottle launch needs ${missing.length === 1 ? "it" : "them"}; \`bottle doctor\` says how to install)`);
    if (lines.length) log(lines.join("\n"));
    return { ...result, versions };
  },
});
