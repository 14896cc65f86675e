import { join } from "node:path";
import type { Json } from "../src/graph/index.js";
import { isBuiltinGitGate, type BottleConfig } from "../src/config/resolved.js";
import { buildTask } from "./define.js";
import { ports } from "./ports.js";

/** The remotes the guest's git rewrites to the gate (names and upstream URLs: no token). */
function gitGateUrls(config: BottleConfig): Record<string, string> | null {
  if (!isBuiltinGitGate(config.gitGate)) return null;
  return Object.fromEntries(Object.entries(config.gitGate.remotes).map(([name, remote]) => [name, remote.url]));
}

/** The secrets as a task input: each host variable, and where an injected one goes (no value anywhere). */
function secretsInput(config: BottleConfig): Json {
  const input: Record<string, Json> = {};
  for (const [name, { fromEnv, inject }] of Object.entries(config.agent.secrets)) {
    input[name] = inject ? { fromEnv, inject: { host: inject.host, header: inject.header, baseUrlEnv: inject.baseUrlEnv ?? null } } : { fromEnv };
  }
  return input;
}

/** The Smolfile: image, env with the proxy (and the git gate's URL rewriting), secret references, mounts, no network. */
export const smolfileToml = buildTask({
  name: "smolfile.toml",
  description: "the Smolfile for smolvm machine create",
  version: 1,
  needs: { ports },
  inputs: ({ config, stageDir }) => ({
    image: config.image,
    agent: { env: config.agent.env, secrets: secretsInput(config), workdir: config.agent.workdir },
    workspace: config.workspace,
    resources: config.resources,
    gitGate: gitGateUrls(config),
    stageDir,
  }),
  writes: () => ["smolfile.toml"],
  run: async ({ ctx, needs, write }) => {
    const { renderSmolfile } = await import("../src/backends/smolmachines/render/smolfile.js");
    const { pipelock, gitGate, injector } = needs.ports;
    const optional = { ...(gitGate !== undefined ? { gitGatePort: gitGate } : {}), ...(injector !== undefined ? { injectorPort: injector } : {}) };
    write("smolfile.toml", renderSmolfile({ config: ctx.config, pipelockPort: pipelock!, ...optional, guestDirHost: join(ctx.stageDir, "guest") }));
    return null;
  },
});
