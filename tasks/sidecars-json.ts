import { buildTask } from "./define.js";

/** The record of what the git gate and supervise start with: an edit shows as a change that needs `bottle resume`. */
export const sidecarsJson = buildTask({
  name: "sidecars.json",
  description: "what the git gate and supervise start with (remotes, push policy, commands); no secrets",
  version: 1,
  inputs: ({ config }) => ({ gitGate: config.gitGate, supervise: config.supervise }),
  writes: () => ["sidecars.json"],
  run: async ({ ctx, write }) => {
    const { renderSidecarsRecord } = await import("../src/backends/smolmachines/render/sidecars-record.js");
    write("sidecars.json", renderSidecarsRecord(ctx.config));
    return null;
  },
});
