// sidecars.json: what the host sidecars besides pipelock start with (the
// built-in git gate's remotes and push policy, or a gitGate / supervise
// command). Nothing reads it back; it is the build's record of that setup,
// so `bottle explain`, `build` and `watch` can say when it changed and that
// a running bottle keeps the old one until `bottle resume`. No secret is
// written: tokens and env values taken from the host appear by variable
// name, literal env values by name only.
import type { BottleConfig, GitGate, Sidecar } from "../../../config/resolved.js";
import { isBuiltinGitGate } from "../../../config/resolved.js";

type SidecarRecord = { command: string[]; env: Record<string, string>; readyTimeoutMs: number };

function sidecarRecord(sidecar: Sidecar): SidecarRecord {
  const env = Object.fromEntries(
    Object.entries(sidecar.env).map(([name, value]) => [name, typeof value === "string" ? "(a value set in the config)" : `from the host's $${value.fromEnv}`]),
  );
  return { command: sidecar.command, env, readyTimeoutMs: sidecar.readyTimeoutMs };
}

function gitGateRecord(gate: GitGate): Record<string, unknown> {
  const remotes = Object.fromEntries(
    Object.entries(gate.remotes).map(([name, remote]) => [
      name,
      {
        url: remote.url,
        token: `from the host's $${remote.token.fromEnv} (user ${remote.token.username})`,
        push: remote.push,
        allowForcePush: remote.allowForcePush,
        allowDelete: remote.allowDelete,
      },
    ]),
  );
  return { builtin: true, remotes };
}

export function renderSidecarsRecord(config: Pick<BottleConfig, "gitGate" | "supervise">): string {
  const gitGate = config.gitGate === null ? null : isBuiltinGitGate(config.gitGate) ? gitGateRecord(config.gitGate) : sidecarRecord(config.gitGate);
  const supervise = config.supervise === null ? null : sidecarRecord(config.supervise);
  return `${JSON.stringify({ gitGate, supervise }, null, 2)}\n`;
}
