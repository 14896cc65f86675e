// The Smolfile for `smolvm machine create -s`. smolvm rejects unknown keys
// (serde deny_unknown_fields), so only its documented keys are written.
import { configEnv } from "../../../gitgate/git-env.js";
import { stringify } from "smol-toml";
import { isBuiltinGitGate, type BottleConfig, type GitGate } from "../../../config/resolved.js";
import { GUEST_DIR, PROXY_HOST, proxyUrl } from "../guest-layout.js";
import { injectionGuestEnv, placeholderEnv } from "../injection.js";

export interface SmolfileOptions {
  config: BottleConfig;
  pipelockPort: number;
  /** The git gate's port (in the jail; the guest reaches it at proxy.internal), when gitGate has remotes. */
  gitGatePort?: number;
  /** The credential injector's port, when a secret is injected. */
  injectorPort?: number;
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
  const gate = isBuiltinGitGate(config.gitGate) && opts.gitGatePort !== undefined ? gitGateEnv(config.gitGate, proxyUrl(opts.gitGatePort)) : {};
  const injection = opts.injectorPort !== undefined ? injectionGuestEnv(config, opts.injectorPort) : {};
  // The gate and the injector are reached at proxy.internal directly: NO_PROXY keeps them off pipelock.
  const direct = Object.keys(gate).length + Object.keys(injection).length > 0 ? noProxyEnv(config.agent.env) : {};
  const smolfile: Record<string, unknown> = {
    image: config.image,
    entrypoint: ["/bin/sh", "-c"],
    cmd: [IDLE_COMMAND],
    env: renderEnv({ ...config.agent.env, ...gate, ...injection, ...direct }, proxyUrl(pipelockPort)),
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
 * which no file in the guest can override). No token: the gate adds it on
 * the host.
 */
export function gitGateEnv(gitGate: GitGate, gateUrl: string): Record<string, string> {
  const names = Object.keys(gitGate.remotes).sort();
  return configEnv(names.map((name) => [`url.${gateUrl}/${name}.git.insteadOf`, gitGate.remotes[name]!.url])) as Record<string, string>;
}

/** NO_PROXY (both spellings) with proxy.internal added to the agent's own: the sidecars there are reached directly; every other host still through the proxy. */
export function noProxyEnv(agentEnv: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["NO_PROXY", "no_proxy"]) {
    const own = (agentEnv[key] ?? "").split(",").filter((host) => host !== "" && host !== PROXY_HOST);
    env[key] = [...own, PROXY_HOST].join(",");
  }
  return env;
}

/**
 * Only the name of a host variable is written; smolvm reads its value at
 * start/exec. An injected secret's is the launcher's placeholder variable:
 * the guest never holds the value.
 */
function renderSecrets(
  secrets: BottleConfig["agent"]["secrets"],
): Record<string, { from_env: string }> {
  const rendered: Record<string, { from_env: string }> = {};
  for (const [name, ref] of sortedEntries(secrets)) rendered[name] = { from_env: ref.inject ? placeholderEnv(name) : ref.fromEnv };
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
