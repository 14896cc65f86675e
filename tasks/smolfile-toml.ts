import { join } from "node:path";
import type { BottleContext } from "../src/context.js";
import type { TaskDef } from "../src/graph/index.js";

/** The Smolfile: image, env with the proxy, secret references, mounts, no network. */
export const smolfileToml: TaskDef<BottleContext> = {
  name: "smolfile.toml",
  description: "the Smolfile for smolvm machine create",
  version: 1,
  needs: ["ports"],
  inputs: ({ config, stageDir }) => ({
    image: config.image,
    agent: { env: config.agent.env, secrets: config.agent.secrets, workdir: config.agent.workdir },
    workspace: config.workspace,
    resources: config.resources,
    stageDir,
  }),
  writes: () => ["smolfile.toml"],
  run: async ({ ctx, needs, write }) => {
    const { renderSmolfile } = await import("../src/backends/smolmachines/render/smolfile.js");
    const ports = needs.ports as Record<string, number>;
    write("smolfile.toml", renderSmolfile({ config: ctx.config, pipelockPort: ports.pipelock!, guestDirHost: join(ctx.stageDir, "guest") }));
    return null;
  },
};
