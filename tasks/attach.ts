import { launchStep } from "./define.js";
import { machine } from "./machine.js";

/** The agent in the guest, behind net-up.sh, with the terminal passed through. */
export const attach = launchStep({
  name: "attach",
  description: "run the agent in the guest (smolvm machine exec -it … net-up.sh <agent.command>)",
  version: 1,
  volatile: true,
  needs: { machine },
  run: async ({ ctx }): Promise<{ exitCode: number }> => (await import("../src/backends/smolmachines/steps/attach-agent.js")).attachAgent(ctx),
});
