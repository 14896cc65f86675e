import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { Subnet } from "../src/backends/smolmachines/subnet.js";

/** gvproxy's -config: one DNS name, gateway NAT to the jail's loopback. */
export const gvproxyYaml: TaskDef<BottleContext> = {
  name: "gvproxy.yaml",
  description: "gvproxy -config: subnet, DNS (proxy.internal only), NAT to the jail's loopback",
  version: 1,
  needs: ["subnet"],
  inputs: ({ runDir }) => ({ runDir }),
  writes: () => ["gvproxy.yaml"],
  run: async ({ ctx, needs, write }) => {
    const { renderGvproxyConfig } = await import("../src/backends/smolmachines/render/gvproxy.js");
    write("gvproxy.yaml", renderGvproxyConfig({ subnet: needs.subnet as unknown as Subnet, runDir: ctx.runDir }));
    return null;
  },
};
