// Which sidecars a bottle runs: pipelock always, git-gate and supervise when configured.
import type { BottleConfig, Sidecar } from "../../config/resolved.js";

export type SidecarName = "pipelock" | "gitGate" | "supervise";

export function activeSidecars(config: BottleConfig): SidecarName[] {
  const names: SidecarName[] = ["pipelock"];
  if (config.gitGate) names.push("gitGate");
  if (config.supervise) names.push("supervise");
  return names;
}

export function configuredSidecar(config: BottleConfig, name: Exclude<SidecarName, "pipelock">): Sidecar | null {
  return name === "gitGate" ? config.gitGate : config.supervise;
}
