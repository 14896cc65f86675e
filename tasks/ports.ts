import { liveLaunchRecord } from "../src/backends/smolmachines/launch-record.js";
import { allocatePorts } from "../src/backends/smolmachines/ports.js";
import { activeSidecars } from "../src/backends/smolmachines/sidecar-names.js";
import { buildTask } from "./define.js";

/**
 * One 127.0.0.1 port per sidecar. Last run's ports are kept while free (or
 * held by this bottle's own running sidecars), so a resume changes nothing
 * downstream unless a port was taken.
 */
export const ports = buildTask({
  name: "ports",
  description: "a free 127.0.0.1 port per sidecar, kept across runs while still free",
  version: 1,
  volatile: true,
  inputs: ({ config }) => ({ sidecars: activeSidecars(config) }),
  run: async ({ ctx, previous }): Promise<Record<string, number>> => {
    const running = liveLaunchRecord(ctx.runDir);
    return allocatePorts({
      sidecars: activeSidecars(ctx.config),
      previous: previous ?? null,
      heldByUs: running ? Object.values(running.ports) : [],
    });
  },
});
