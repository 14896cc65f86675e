import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { MachineResult } from "../src/backends/smolmachines/launch/machine.js";

/** The smolvm machine: created, re-created when its Smolfile changed, or reused; then started. */
export const machine: TaskDef<BottleContext> = {
  name: "machine",
  description: "create (or reuse) and start the smolvm machine bottle-<name>",
  version: 1,
  volatile: true,
  needs: ["network", "smolfile.toml", "guest"],
  reads: () => ["smolfile.toml"],
  run: async ({ ctx, needs, previous, log }) =>
    (await import("../src/backends/smolmachines/launch/machine.js")).ensureMachine(ctx, (needs.network as { socket: string }).socket, previous as MachineResult | undefined, log),
};
