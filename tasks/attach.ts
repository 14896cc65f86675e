import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";

/** The agent in the guest, behind net-up.sh, with the terminal passed through. */
export const attach: TaskDef<BottleContext> = {
  name: "attach",
  description: "run the agent in the guest (smolvm machine exec -it … net-up.sh <agent.command>)",
  version: 1,
  volatile: true,
  needs: ["machine"],
  run: async ({ ctx }) => (await import("../src/backends/smolmachines/launch/attach.js")).attachAgent(ctx),
};
