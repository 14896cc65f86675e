import { injector } from "./injector.js";
import { launchStep } from "./define.js";
import { pipelockYaml } from "./pipelock-yaml.js";
import { ports } from "./ports.js";
import { preflight } from "./preflight.js";
import { sidecarsJson } from "./sidecars-json.js";
import { tls } from "./tls.js";

/** pipelock (and git-gate / supervise, the injector) on the host: each ready when its port accepts, the built-in git gate when its socket appears. */
export const sidecars = launchStep({
  name: "sidecars",
  description: "start pipelock (and git-gate, supervise) on the host",
  // 2: no longer refuses a subnet another running bottle uses (each gvproxy's network is private to its jail).
  version: 2,
  volatile: true,
  // pipelock.yaml, sidecars.json and tls: the files they start with.
  needs: { preflight, ports, pipelockYaml, sidecarsJson, tls, injector },
  run: async ({ ctx, needs }): Promise<Record<string, number>> => {
    // The process side loads only when a launch runs (build stays quick).
    const { startSidecars } = await import("../src/backends/smolmachines/steps/start-sidecars.js");
    return startSidecars(ctx, { preflight: needs.preflight, ports: needs.ports, injection: needs.injector });
  },
});
