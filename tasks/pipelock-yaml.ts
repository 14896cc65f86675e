import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { Subnet } from "../src/backends/smolmachines/subnet.js";
import { pipelockRunFiles } from "../src/backends/smolmachines/pipelock-files.js";

/** pipelock's config: strict allowlist = the agent's hosts + egress.allow; SSRF ranges + the bottle's subnet. */
export const pipelockYaml: TaskDef<BottleContext> = {
  name: "pipelock.yaml",
  description: "pipelock config: strict mode, the agent's hosts plus egress.allow, private ranges and the subnet refused",
  // 3: pipelock's secrets come from a secrets file in the run dir, not from scanning its environment.
  version: 3,
  needs: ["subnet"],
  inputs: ({ config, runDir }) => ({ egress: { allow: config.egress.allow }, secretsFile: pipelockRunFiles(runDir).secrets }),
  writes: () => ["pipelock.yaml"],
  run: async ({ ctx, needs, write }) => {
    const { renderPipelockConfig } = await import("../src/backends/smolmachines/render/pipelock.js");
    const subnet = needs.subnet as unknown as Subnet;
    write("pipelock.yaml", renderPipelockConfig({ allow: ctx.config.egress.allow, subnetCidr: subnet.cidr, secretsFile: pipelockRunFiles(ctx.runDir).secrets }));
    return null;
  },
};
