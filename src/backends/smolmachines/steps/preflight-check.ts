// What must hold before a launch starts anything: every program preflight
// looks for, and a network jail for gvproxy.
import { BottleError } from "../../../lib/errors.js";
import { toolsDir } from "../../../lib/host-tools.js";
import type { BuildContext } from "../context.js";
import { detectJail, type AvailableJail } from "../jail/index.js";
import { formatPreflight, type PreflightResult } from "../preflight.js";

export function assertPreflight(result: PreflightResult, options: { unsafeNoJail?: boolean } = {}): void {
  // Without the jail, bwrap is not needed: --unsafe-no-jail must work where bwrap is missing.
  const missing = options.unsafeNoJail ? result.missing.filter((m) => m.name !== "bwrap") : result.missing;
  if (missing.length === 0) return;
  throw new BottleError("missing-tool", formatPreflight({ ...result, ok: false, missing }, { toolsDir: toolsDir() }));
}

/**
 * The jail gvproxy will run in, detected on the first call only (on Linux
 * it spawns a bwrap probe) and refused when there is none; null with
 * --unsafe-no-jail. A launch makes one and every step asks it.
 */
export function jailOnce(ctx: Pick<BuildContext, "platform" | "pathEnv">, unsafeNoJail: boolean): () => Promise<AvailableJail | null> {
  let detected: Promise<AvailableJail | null> | undefined;
  return () => (detected ??= unsafeNoJail ? Promise.resolve(null) : requireJail(ctx));
}

async function requireJail(ctx: Pick<BuildContext, "platform" | "pathEnv">): Promise<AvailableJail> {
  const support = await detectJail(ctx.platform, { pathEnv: ctx.pathEnv });
  if (support.kind === "unavailable") {
    throw new BottleError("missing-tool", `no network jail for gvproxy: ${support.reason}\nfix: ${support.fix}\nbottle will not run gvproxy unjailed (for debugging only: --unsafe-no-jail).`);
  }
  return support;
}
