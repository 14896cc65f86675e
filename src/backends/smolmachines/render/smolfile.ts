// The Smolfile for `smolvm machine create -s`. smolvm rejects unknown keys
// (serde deny_unknown_fields), so only its documented keys are written.
import { configEnv } from "../../../gitgate/git-env.js";
import { stringify } from "smol-toml";
import { isBuiltinGitGate, type BottleConfig, type GitGate } from "../../../config/resolved.js";
import { GUEST_DIR, PROXY_HOST, proxyUrl } from "../guest-layout.js";

export interface SmolfileOptions {
  config: BottleConfig;
  pipelockPort: number;
  /** The git gate's port (in the jail; the guest reaches it at proxy.internal), when gitGate has remotes. */
  gitGatePort?: number;
  /** Host path of the stage's guest/ directory (net-up.sh, gvforwarder). */
  guestDirHost: string;
}

export const PROXY_ENV_NAMES = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] as const;

// The machine only has to stay up: the agent is started later through
// `smolvm machine exec`. `sleep & wait` lets the trap run as soon as a
// signal arrives instead of after the sleep.
export const IDLE_COMMAND =
  "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

export function renderSmolfile(opts: SmolfileOptions): string {
  const { config, pipelockPort, guestDirHost } = opts;
  const gate = isBuiltinGitGate(config.gitGate) && opts.gitGatePort !== undefined ? gitGateEnv(config.gitGate, proxyUrl(opts.gitGatePort), config.agent.env) : {};
  const smolfile: Record<string, unknown> = {
    image: config.image,
    entrypoint: ["/bin/sh", "-c"],
    cmd: [IDLE_COMMAND],
    env: renderEnv({ ...config.agent.env, ...gate }, proxyUrl(pipelockPort)),
    workdir: config.agent.workdir,
    cpus: config.resources.cpus,
    memory: config.resources.memoryMiB,
    volumes: renderVolumes(config.workspace, guestDirHost),
    net: false,
  };
  const secrets = renderSecrets(config.agent.secrets);
  if (Object.keys(secrets).length > 0) smolfile.secrets = secrets;
  return stringify(smolfile);
}

/** The agent's env sorted by key; the proxy variables always win over it. */
function renderEnv(env: Record<string, string>, proxy: string): string[] {
  const proxyNames: readonly string[] = PROXY_ENV_NAMES;
  const own = sortedEntries(env)
    .filter(([key]) => !proxyNames.includes(key))
    .map(([key, value]) => `${key}=${value}`);
  return [...own, ...PROXY_ENV_NAMES.map((name) => `${name}=${proxy}`)];
}

/**
 * What makes git in the guest use the gate for each remote's real URL
 * (`url.<gate>/<name>.git.insteadOf=<upstream>`, as GIT_CONFIG_* variables,
 * which no file in the guest can override) and keeps the gate's traffic
 * off pipelock (NO_PROXY: other hosts still go through the proxy). No
 * token: the gate adds it on the host.
 */
export function gitGateEnv(gitGate: GitGate, gateUrl: string, agentEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  const names = Object.keys(gitGate.remotes).sort();
  const env = configEnv(names.map((name) => [`url.${gateUrl}/${name}.git.insteadOf`, gitGate.remotes[name]!.url])) as Record<string, string>;
  for (const key of ["NO_PROXY", "no_proxy"]) {
    const own = (agentEnv[key] ?? "").split(",").filter((host) => host !== "" && host !== PROXY_HOST);
    env[key] = [...own, PROXY_HOST].join(",");
  }
  return env;
}

/** Only the name of the host variable is written; smolvm reads its value at start/exec. */
function renderSecrets(
  secrets: BottleConfig["agent"]["secrets"],
): Record<string, { from_env: string }> {
  const rendered: Record<string, { from_env: string }> = {};
  for (const [name, ref] of sortedEntries(secrets)) rendered[name] = { from_env: ref.fromEnv };
  return rendered;
}

function renderVolumes(workspace: BottleConfig["workspace"], guestDirHost: string): string[] {
  const volumes: string[] = [];
  if (workspace !== null) {
    const mount = `${volumePath(workspace.host)}:${volumePath(workspace.guest)}`;
    volumes.push(workspace.readOnly ? `${mount}:ro` : mount);
  }
  volumes.push(`${volumePath(guestDirHost)}:${GUEST_DIR}:ro`);
  return volumes;
}

/** smolvm splits volume specs on ":", so a path containing one cannot be mounted. */
function volumePath(path: string): string {
  if (path.includes(":")) {
    throw new Error(`cannot mount ${JSON.stringify(path)}: smolvm volume paths may not contain ":"`);
  }
  return path;
}

function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
