import { gvproxyYaml } from "./gvproxy-yaml.js";
import { launchStep } from "./define.js";
import { preflight } from "./preflight.js";
import { sidecars } from "./sidecars.js";

/** gvproxy in a network jail that holds nothing but the sidecar ports. */
export const network = launchStep({
  name: "network",
  description: "gvproxy inside the network jail (bubblewrap / sandbox-exec) with relays to the sidecars",
  version: 1,
  volatile: true,
  needs: { sidecars, gvproxyYaml, preflight },
  run: async ({ ctx, needs }): Promise<{ socket: string; jail: string }> => {
    const { startNetwork } = await import("../src/backends/smolmachines/steps/start-network.js");
    // In a launch, preflight fails when it did not find gvproxy.
    return startNetwork(ctx, { ports: needs.sidecars, gvproxy: needs.preflight.found.gvproxy! });
  },
});
