import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import { allocatePorts } from "../src/backends/smolmachines/ports.js";
import { liveRuntimeRecord } from "../src/backends/smolmachines/runtime-record.js";
import { activeSidecars } from "../src/backends/smolmachines/sidecars.js";

/**
 * One 127.0.0.1 port per sidecar. Last run's ports are kept while free (or
 * held by this bottle's own running sidecars), so a resume changes nothing
 * downstream unless a port was taken.
 */
export const ports: TaskDef<BottleContext> = {
  name: "ports",
  description: "a free 127.0.0.1 port per sidecar, kept across runs while still free",
  version: 1,
  volatile: true,
  inputs: ({ config }) => ({ sidecars: activeSidecars(config) }),
  run: async ({ ctx, previous }) => {
    const running = liveRuntimeRecord(ctx.runDir);
    return allocatePorts({
      sidecars: activeSidecars(ctx.config),
      previous: (previous as Record<string, number> | undefined) ?? null,
      heldByUs: running ? Object.values(running.ports) : [],
    });
  },
};
