import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";
import type { Subnet } from "../src/backends/smolmachines/subnet.js";
import { pipelockRunFiles } from "../src/backends/smolmachines/pipelock-files.js";
import { caPaths } from "../src/backends/smolmachines/bottle-ca.js";
import type { InjectorName } from "./injector.js";

const MIB = 1024 * 1024;

/** What the render reads besides the subnet (also the task's inputs, so a reason names `egress.allow`). */
const settings = ({ config, runDir, stageDir }: BottleContext) => ({
  egress: { allow: config.egress.allow, passthrough: config.egress.passthrough, maxResponseMiB: config.egress.maxResponseMiB },
  secretsFile: pipelockRunFiles(runDir).secrets,
  ca: caPaths(stageDir),
});

/** pipelock's config: strict allowlist = the agent's hosts + egress.allow; SSRF ranges + the bottle's subnet; TLS interception with the bottle's CA. */
export const pipelockYaml: TaskDef<BottleContext> = {
  name: "pipelock.yaml",
  description: "pipelock config: strict mode, the agent's hosts plus egress.allow, private ranges and the subnet refused, HTTPS opened with the bottle's CA (but for egress.passthrough)",
  // 3: pipelock's secrets come from a secrets file in the run dir, not from scanning its environment; TLS interception.
  version: 3,
  needs: ["subnet", "injector"],
  inputs: (ctx) => settings(ctx),
  writes: () => ["pipelock.yaml"],
  run: async ({ ctx, needs, write }) => {
    const { renderPipelockConfig } = await import("../src/backends/smolmachines/render/pipelock.js");
    const subnet = needs.subnet as unknown as Subnet;
    const injectorName = (needs.injector as InjectorName | null)?.upstreamName ?? null;
    const { egress, secretsFile, ca } = settings(ctx);
    const tls = { ...ca, passthrough: egress.passthrough, maxResponseBytes: egress.maxResponseMiB * MIB };
    write("pipelock.yaml", renderPipelockConfig({ allow: egress.allow, subnetCidr: subnet.cidr, secretsFile, tls, injectorName }));
    return null;
  },
};
