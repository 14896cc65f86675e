// Which sidecars a bottle runs: pipelock always, git-gate and supervise when
// configured, the credential injector when a secret is injected (after
// pipelock, which it sends everything through).
import { injectedSecrets, isBuiltinGitGate, type BottleConfig, type Sidecar } from "../../config/resolved.js";

export type SidecarName = "pipelock" | "gitGate" | "supervise" | "injector";

/** The sidecars that take a new config while they run (a control request \`reload <name>\`). */
export type ReloadableSidecar = "pipelock";

/** Each sidecar's log, <stage>/logs/<role>.log: one name per sidecar, whatever its form, and one `rm` knows. */
export const SIDECAR_LOG_ROLE: Readonly<Record<SidecarName, string>> = { pipelock: "pipelock", gitGate: "git-gate", supervise: "supervise", injector: "injector" };

export function activeSidecars(config: BottleConfig): SidecarName[] {
  const names: SidecarName[] = ["pipelock"];
  if (config.gitGate) names.push("gitGate");
  if (config.supervise) names.push("supervise");
  if (injectedSecrets(config).length > 0) names.push("injector");
  return names;
}

/** A sidecar command from the config; null for the built-in git gate, which bottle starts itself. */
export function configuredSidecar(config: BottleConfig, name: "gitGate" | "supervise"): Sidecar | null {
  if (name === "supervise") return config.supervise;
  return isBuiltinGitGate(config.gitGate) ? null : config.gitGate;
}
