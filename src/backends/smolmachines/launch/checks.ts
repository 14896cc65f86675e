// What must hold before a launch starts anything.
import type { BottleContext } from "../../../context.js";
import { BottleError } from "../../../errors.js";
import { detectJail, type AvailableJail, type JailSupport } from "../jail/index.js";
import { toolsDir } from "../../../host-tools.js";
import { formatPreflight, type PreflightResult } from "../preflight.js";

export function assertPreflight(result: PreflightResult, options: { unsafeNoJail?: boolean } = {}): void {
  // Without the jail, bwrap is not needed: --unsafe-no-jail must work where bwrap is missing.
  const missing = options.unsafeNoJail ? result.missing.filter((m) => m.name !== "bwrap") : result.missing;
  if (missing.length === 0) return;
  throw new BottleError(`${formatPreflight({ ...result, ok: false, missing }, { toolsDir: toolsDir() })}\nNothing was started.`);
}

const detected = new WeakMap<BottleContext, Promise<JailSupport>>();

/**
 * The network jail gvproxy will run in, or null with --unsafe-no-jail. Checked
 * before the sidecars start too, so a host without a working jail is refused
 * before anything runs. Detected once per launch (on Linux it spawns a bwrap
 * probe); both steps get that answer.
 */
export async function requireJail(ctx: BottleContext, unsafeNoJail: boolean): Promise<AvailableJail | null> {
  if (unsafeNoJail) return null;
  let detection = detected.get(ctx);
  if (!detection) detected.set(ctx, (detection = detectJail(ctx.platform, { pathEnv: ctx.pathEnv })));
  const support = await detection;
  if (support.kind === "unavailable") {
    throw new BottleError(`no network jail for gvproxy: ${support.reason}\nfix: ${support.fix}\nbottle will not run gvproxy unjailed (for debugging only: --unsafe-no-jail).`);
  }
  return support;
}
