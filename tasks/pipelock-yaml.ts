import { caPaths } from "../src/backends/smolmachines/bottle-ca.js";
import { pipelockRunFiles } from "../src/backends/smolmachines/pipelock-files.js";
import type { BuildContext } from "../src/backends/smolmachines/context.js";
import { allowedHosts, presetOf } from "../src/config/egress-presets.js";
import { buildTask, reloadedLive } from "./define.js";
import { injector } from "./injector.js";
import { subnet } from "./subnet.js";

const MIB = 1024 * 1024;

/**
 * What the render reads besides the subnet and the injector's name (also the
 * task's inputs, so a reason names `egress.allow`). A preset by its hosts, so
 * a preset whose hosts change re-renders (`egress.presets.claude-code@1`).
 */
const settings = ({ config, runDir, stageDir }: BuildContext) => ({
  egress: {
    allow: config.egress.allow,
    presets: Object.fromEntries(config.egress.presets.map((ref) => [`${ref.name}@${ref.version}`, presetOf(ref).hosts.map((h) => h.host)])),
    passthrough: config.egress.passthrough,
    maxResponseMiB: config.egress.maxResponseMiB,
  },
  secretsFile: pipelockRunFiles(runDir).secrets,
  ca: caPaths(stageDir),
});

/**
 * pipelock's config: strict allowlist = the config's presets + egress.allow +
 * passthrough, nothing else; SSRF ranges + the bottle's subnet; TLS
 * interception with the bottle's CA. A running bottle's pipelock takes a new
 * one live (watch mode).
 */
export const pipelockYaml = reloadedLive(
  "pipelock",
  buildTask({
    name: "pipelock.yaml",
    description: "pipelock config: strict mode, the config's presets plus egress.allow, private ranges and the subnet refused, HTTPS opened with the bottle's CA but for egress.passthrough (`bottle policy` shows it)",
    // 3: the allowlist is the config's presets and allow only; secrets from a secrets file in the run dir; TLS interception.
    version: 3,
    needs: { subnet, injector },
    inputs: (ctx) => settings(ctx),
    writes: () => ["pipelock.yaml"],
    run: async ({ ctx, needs, write }) => {
      const { renderPipelockConfig } = await import("../src/backends/smolmachines/render/pipelock.js");
      const { egress, secretsFile, ca } = settings(ctx);
      const tls = { ...ca, passthrough: egress.passthrough, maxResponseBytes: egress.maxResponseMiB * MIB };
      const allow = allowedHosts(ctx.config.egress).map(({ host }) => host);
      write("pipelock.yaml", renderPipelockConfig({ allow, subnetCidr: needs.subnet.cidr, secretsFile, tls, injectorName: needs.injector?.upstreamName ?? null }));
      return null;
    },
  }),
);
