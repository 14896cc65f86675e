import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { Subnet } from "../src/backends/smolmachines/subnet.js";
import { allowedHosts, presetOf } from "../src/config/egress-presets.js";

/** pipelock's config: strict allowlist = the config's presets + egress.allow, nothing else; SSRF ranges + the bottle's subnet. */
export const pipelockYaml: TaskDef<BottleContext> = {
  name: "pipelock.yaml",
  description: "pipelock config: strict mode, the config's presets plus egress.allow, private ranges and the subnet refused (`bottle policy` shows it)",
  version: 3,
  needs: ["subnet"],
  // A preset by its hosts, so a preset whose hosts change re-renders (`egress.presets.claude-code@1`).
  inputs: ({ config }) => ({
    egress: {
      allow: config.egress.allow,
      presets: Object.fromEntries(config.egress.presets.map((ref) => [`${ref.name}@${ref.version}`, presetOf(ref).hosts.map((h) => h.host)])),
    },
  }),
  writes: () => ["pipelock.yaml"],
  run: async ({ ctx, needs, write }) => {
    const { renderPipelockConfig } = await import("../src/backends/smolmachines/render/pipelock.js");
    const subnet = needs.subnet as unknown as Subnet;
    const allow = allowedHosts(ctx.config.egress).map(({ host }) => host);
    write("pipelock.yaml", renderPipelockConfig({ allow, subnetCidr: subnet.cidr }));
    return null;
  },
};
