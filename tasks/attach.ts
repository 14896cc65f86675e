import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import { attachAgent } from "../src/backends/smolmachines/launch/attach.js";

/** The agent in the guest, behind net-up.sh, with the terminal passed through. */
export const attach: TaskDef<BottleContext> = {
  name: "attach",
  description: "run the agent in the guest (smolvm machine exec -it … net-up.sh <agent.command>)",
  version: 1,
  volatile: true,
  needs: ["machine"],
  run: ({ ctx }) => attachAgent(ctx),
};
