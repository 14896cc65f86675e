import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { PreflightResult } from "../src/backends/smolmachines/preflight.js";
import type { Injection } from "../src/backends/smolmachines/launch/sidecars.js";

/** pipelock (and git-gate / supervise) on the host: each ready when its port accepts, the built-in git gate when its socket appears. */
export const sidecars: TaskDef<BottleContext> = {
  name: "sidecars",
  description: "start pipelock (and git-gate, supervise) on the host",
  // 2: no longer refuses a subnet another running bottle uses (each gvproxy's network is private to its jail).
  version: 2,
  volatile: true,
  needs: ["preflight", "ports", "pipelock.yaml", "sidecars.json", "tls", "injector"],
  run: async ({ ctx, needs }) => {
    // The process side loads only when a launch runs (build stays quick).
    const { assertPreflight, requireJail } = await import("../src/backends/smolmachines/launch/checks.js");
    const { launchServices } = await import("../src/backends/smolmachines/launch/services.js");
    const { startSidecars } = await import("../src/backends/smolmachines/launch/sidecars.js");
    const preflight = needs.preflight as unknown as PreflightResult;
    const { unsafeNoJail } = launchServices(ctx);
    // Everything that can refuse the launch, before anything starts.
    assertPreflight(preflight, { unsafeNoJail });
    const jail = await requireJail(ctx, unsafeNoJail);
    const tools = { pipelock: preflight.found.pipelock!, gitleaks: preflight.found.gitleaks ?? null, bwrap: preflight.found.bwrap ?? null };
    return startSidecars(ctx, needs.ports as Record<string, number>, tools, jail?.kind === "bwrap", needs.injector as Injection);
  },
};
