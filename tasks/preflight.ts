import type { BottleContext } from "../src/context.js";
import type { Json, TaskDef } from "../src/graph/index.js";
import { checkPreflight } from "../src/backends/smolmachines/preflight.js";

/** The host programs launch needs. A warning for `build`, fatal for `launch`. */
export const preflight: TaskDef<BottleContext> = {
  name: "preflight",
  description: "smolvm, gvproxy, pipelock (and bwrap on Linux) on PATH, and the gvforwarder file",
  version: 1,
  volatile: true,
  inputs: ({ config }) => ({ guest: { gvforwarder: config.guest.gvforwarder } }),
  run: ({ ctx }) =>
    checkPreflight({ platform: ctx.platform, pathEnv: ctx.pathEnv, gvforwarder: ctx.config.guest.gvforwarder }) as unknown as Json,
};
