import type { MachineResult } from "../src/backends/smolmachines/steps/start-machine.js";
import { guest } from "./guest.js";
import { launchStep } from "./define.js";
import { network } from "./network.js";
import { smolfileToml } from "./smolfile-toml.js";

/** The smolvm machine: created, re-created when its Smolfile changed, or reused; then started. */
export const machine = launchStep({
  name: "machine",
  description: "create (or reuse) and start the smolvm machine bottle-<name>",
  version: 1,
  volatile: true,
  needs: { network, smolfileToml, guest },
  reads: () => ["smolfile.toml"],
  run: async ({ ctx, needs, previous, log }): Promise<MachineResult> => {
    const { startMachine } = await import("../src/backends/smolmachines/steps/start-machine.js");
    return startMachine(ctx, { socket: needs.network.socket, previous, log });
  },
});
