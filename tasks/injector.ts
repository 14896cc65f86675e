import { injectedSecrets } from "../src/config/resolved.js";
import { newUpstreamName, type InjectorName } from "../src/backends/smolmachines/injection.js";
import { buildTask } from "./define.js";

/** With an injected secret: the name pipelock reaches bottle's credential injector by, random and kept; without, null. */
export const injector = buildTask({
  name: "injector",
  description: "the name pipelock reaches the credential injector by (agent.secrets with inject): random per bottle, kept, never shown to the guest",
  version: 1,
  inputs: ({ config }) => ({ injects: injectedSecrets(config).length > 0 }),
  run: ({ ctx, previous }): InjectorName | null => {
    if (injectedSecrets(ctx.config).length === 0) return null;
    return { upstreamName: previous?.upstreamName ?? newUpstreamName() };
  },
});
