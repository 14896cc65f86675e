import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";

/** pipelock's config: strict allowlist = the agent's hosts + egress.allow. */
export const pipelockYaml: TaskDef<BottleContext> = {
  name: "pipelock.yaml",
  description: "pipelock config: strict mode, the agent's hosts plus egress.allow",
  version: 1,
  inputs: ({ config }) => ({ egress: { allow: config.egress.allow } }),
  writes: () => ["pipelock.yaml"],
  run: async ({ ctx, write }) => {
    const { renderPipelockConfig } = await import("../src/backends/smolmachines/render/pipelock.js");
    write("pipelock.yaml", renderPipelockConfig({ allow: ctx.config.egress.allow }));
    return null;
  },
};
