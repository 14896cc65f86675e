import { existsSync } from "node:fs";
import type { BuildContext } from "../src/backends/smolmachines/context.js";
import { buildTask } from "./define.js";

const copiedForwarder = (ctx: BuildContext): string | null => {
  const path = ctx.config.guest.gvforwarder;
  // A missing file is preflight's to report; the build still renders the rest.
  return path !== "image" && existsSync(path) ? path : null;
};

/** The stage's guest/ dir, mounted read-only: net-up.sh and a gvforwarder copy. */
export const guest = buildTask({
  name: "guest",
  description: "guest/: the network bootstrap net-up.sh and a copy of gvforwarder",
  version: 2,
  inputs: ({ config }) => ({ guest: { gvforwarder: config.guest.gvforwarder } }),
  reads: ({ config }) => (config.guest.gvforwarder === "image" ? [] : [config.guest.gvforwarder]),
  writes: (ctx) => (copiedForwarder(ctx) ? ["guest/net-up.sh", "guest/gvforwarder"] : ["guest/net-up.sh"]),
  run: async ({ ctx, write }) => {
    const { renderNetUp } = await import("../src/backends/smolmachines/render/net-up.js");
    const { readForwarderBinary } = await import("../src/backends/smolmachines/guest-forwarder.js");
    // Executable for the guest's root, readable by nobody else on the host.
    write("guest/net-up.sh", renderNetUp(), { mode: 0o700 });
    const forwarder = copiedForwarder(ctx);
    // Not the engine's copy(): that follows a symlink the guest (or another user) may have put there.
    if (forwarder) write("guest/gvforwarder", readForwarderBinary(forwarder), { mode: 0o700 });
    return null;
  },
});
