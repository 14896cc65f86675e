import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { Subnet } from "../src/backends/smolmachines/subnet.js";

/** pipelock's config: strict allowlist = the agent's hosts + egress.allow; SSRF ranges + the bottle's subnet. */
export const pipelockYaml: TaskDef<BottleContext> = {
  name: "pipelock.yaml",
  description: "pipelock config: strict mode, the agent's hosts plus egress.allow, private ranges and the subnet refused",
  version: 2,
  needs: ["subnet"],
  inputs: ({ config }) => ({ egress: { allow: config.egress.allow } }),
  writes: () => ["pipelock.yaml"],
  run: async ({ ctx, needs, write }) => {
    const { renderPipelockConfig } = await import("../src/backends/smolmachines/render/pipelock.js");
    const subnet = needs.subnet as unknown as Subnet;
    write("pipelock.yaml", renderPipelockConfig({ allow: ctx.config.egress.allow, subnetCidr: subnet.cidr }));
    return null;
  },
};
