// Finding the bottle a lifecycle command is about: by name from the
// registry, or the one whose config is in the current directory.
import type { Backend } from "../backends/types.js";
import { loadBackend } from "../backends/index.js";
import { usageError } from "../errors.js";
import { findBottle, listBottles, type BottleEntry } from "../registry.js";
import { openSession, type Session } from "./session.js";

export interface FoundBottle {
  entry: BottleEntry;
  backend: Backend;
  /** Set when the bottle was found through its config (so it can be launched). */
  session?: Session;
}

export async function findNamedBottle(name: string | undefined, options: { config?: string | undefined; stage?: string | undefined }): Promise<FoundBottle> {
  if (name) {
    const entry = findBottle(name);
    if (!entry) {
      const known = listBottles().map((e) => e.slug);
      throw usageError(`no bottle named \`${name}\` on this machine${known.length ? ` (known: ${known.join(", ")})` : ""}; \`bottle ls\` lists them`);
    }
    return { entry, backend: await loadBackend(entry.backend) };
  }
  const session = await openSession(options);
  const { ctx } = session;
  const entry = findBottle(ctx.config.name) ?? {
    slug: ctx.config.name,
    backend: session.backend.name,
    configPath: ctx.configPath,
    stageDir: ctx.stageDir,
    runDir: ctx.runDir,
    octet: ctx.config.network.subnetOctet ?? 0,
    updatedAt: 0,
  };
  return { entry, backend: session.backend, session };
}
