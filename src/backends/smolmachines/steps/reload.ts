// A running launch's answer to `reload <sidecar>` (watch mode asks it after
// re-rendering a file a sidecar takes live).
import type { ReloadableSidecar } from "../sidecar-names.js";
import type { Supervisor } from "../process/supervisor.js";
import type { BuildContext } from "../context.js";
import { reloadPipelock } from "./pipelock.js";

const RELOADS: Readonly<Record<ReloadableSidecar, (ctx: Pick<BuildContext, "stageDir" | "runDir">, supervisor: Supervisor) => Promise<string>>> = {
  pipelock: (ctx, supervisor) => reloadPipelock(ctx, supervisor.process("pipelock")),
};

function isReloadable(target: string): target is ReloadableSidecar {
  return Object.hasOwn(RELOADS, target);
}

export async function reloadSidecar(ctx: Pick<BuildContext, "stageDir" | "runDir">, supervisor: Supervisor, target: string): Promise<string> {
  if (!isReloadable(target)) return `error ${target} does not reload (only ${Object.keys(RELOADS).join(", ")} does)`;
  return RELOADS[target](ctx, supervisor);
}
