// The built-in git gate as a launch starts it: on a unix socket in the run
// dir when the jail's relay carries the guest's connections to it (only
// that relay, running as this user, can connect), else on its 127.0.0.1
// port like any sidecar. Its tokens come from the host environment here,
// and a missing one fails the launch, naming the variable.
import { join } from "node:path";
import type { BuildContext } from "../context.js";
import { BottleError } from "../../../lib/errors.js";
import type { GitGate } from "../../../config/resolved.js";
import { gitGateProcess, gitGateSocket, MIRRORS_DIR, type GitGateProcess } from "../../../gitgate/start.js";
import type { GateListen } from "../../../gitgate/options.js";
import { MAX_SOCKET_PATH_BYTES } from "../jail/jail-layout.js";

/** Where the gate listens: its socket when the jail relay reaches it, else its loopback port. */
export function gitGateListen(runDir: string, port: number, relayed: boolean): GateListen {
  if (!relayed) return { port };
  const socket = gitGateSocket(runDir);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new BottleError("failed", `the git gate's socket path ${socket} is over the ${MAX_SOCKET_PATH_BYTES}-byte limit for unix sockets; set a shorter XDG_RUNTIME_DIR`);
  }
  return { socket };
}

export interface GitGateLaunch {
  listen: GateListen;
  /** The agent's secret values by guest name. */
  secrets: Record<string, string>;
  log: string;
  gitleaks: string | null;
}

/** Each remote's upstream token, from the host variable its config names; an unset one fails, naming it. */
export function gitGateTokens(gitGate: GitGate): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const [name, remote] of Object.entries(gitGate.remotes)) {
    const value = process.env[remote.token.fromEnv];
    if (!value) throw new BottleError("failed", `gitGate.remotes.${name}.token: the host variable ${remote.token.fromEnv} is not set; the git gate needs it to reach ${remote.url}`);
    tokens[name] = value;
  }
  return tokens;
}

export function gitGateLaunchProcess(ctx: Pick<BuildContext, "stageDir" | "pathEnv">, gitGate: GitGate, launch: GitGateLaunch): GitGateProcess {
  return gitGateProcess({
    remotes: gitGate.remotes,
    tokens: gitGateTokens(gitGate),
    ...launch,
    dir: join(ctx.stageDir, MIRRORS_DIR),
    pathEnv: ctx.pathEnv,
  });
}

/** The launch's lines about the gate: each remote, its upstream, where the guest reaches it. */
export function gitGateSummary(gitGate: GitGate, port: number, gitleaks: string | null, listen: GateListen): string[] {
  const lines = Object.entries(gitGate.remotes).map(
    ([name, remote]) => `git gate: ${name} → ${remote.url} at proxy.internal:${port}; push: ${remote.push.length ? remote.push.join(", ") : "none (fetch only)"}`,
  );
  if ("port" in listen) {
    lines.push(`git gate: without the jail's relay it listens on 127.0.0.1:${port}, where every local user can use it (and its token); the Linux jail puts it on a unix socket only the relay reaches`);
  }
  if (gitleaks === null) lines.push("git gate: gitleaks not found (PATH or .tools/bin; `npm run tools` installs it): every push will be refused");
  return lines;
}
