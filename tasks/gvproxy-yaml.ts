import { buildTask } from "./define.js";
import { subnet } from "./subnet.js";

/** gvproxy's -config: one DNS name, gateway NAT to the jail's loopback. */
export const gvproxyYaml = buildTask({
  name: "gvproxy.yaml",
  description: "gvproxy -config: subnet, DNS (proxy.internal only), NAT to the jail's loopback",
  version: 1,
  needs: { subnet },
  inputs: ({ runDir }) => ({ runDir }),
  writes: () => ["gvproxy.yaml"],
  run: async ({ ctx, needs, write }) => {
    // Renderers load when a task runs: a build with nothing to do does not pay for them.
    const { renderGvproxyConfig } = await import("../src/backends/smolmachines/render/gvproxy.js");
    write("gvproxy.yaml", renderGvproxyConfig({ subnet: needs.subnet, runDir: ctx.runDir }));
    return null;
  },
});
