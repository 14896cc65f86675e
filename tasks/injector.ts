import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import { injectedSecrets } from "../src/config/resolved.js";
import { newUpstreamName } from "../src/backends/smolmachines/injection.js";

export interface InjectorName {
  upstreamName: string;
}

/** With an injected secret: the name pipelock reaches bottle's credential injector by, random and kept; without, null. */
export const injector: TaskDef<BottleContext> = {
  name: "injector",
  description: "the name pipelock reaches the credential injector by (agent.secrets with inject): random per bottle, kept, never shown to the guest",
  version: 1,
  inputs: ({ config }) => ({ injects: injectedSecrets(config).length > 0 }),
  run: ({ ctx, previous }) => {
    if (injectedSecrets(ctx.config).length === 0) return null;
    const kept = (previous as InjectorName | null | undefined)?.upstreamName;
    return { upstreamName: kept ?? newUpstreamName() };
  },
};
