import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { PreflightResult } from "../src/backends/smolmachines/preflight.js";

/** gvproxy in a network jail that holds nothing but the sidecar ports. */
export const network: TaskDef<BottleContext> = {
  name: "network",
  description: "gvproxy inside the network jail (bubblewrap / sandbox-exec) with relays to the sidecars",
  version: 1,
  volatile: true,
  needs: ["sidecars", "gvproxy.yaml", "preflight"],
  run: async ({ ctx, needs }) =>
    (await import("../src/backends/smolmachines/launch/network.js")).startNetwork(ctx, needs.sidecars as Record<string, number>, (needs.preflight as unknown as PreflightResult).found.gvproxy!),
};
