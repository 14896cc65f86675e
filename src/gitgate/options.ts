// What the gate program is told by whoever starts it (the launch's sidecars
// step, or a test): one JSON value in its environment, next to the token and
// secret values, which travel only as environment variables of their own.
// node: imports only: the pre-receive hook loads this on every push.

export const GATE_OPTIONS_ENV = "BOTTLE_GIT_GATE";
/** Set per request for the pre-receive hook: which remote the push is for. */
export const GATE_REMOTE_ENV = "BOTTLE_GIT_GATE_REMOTE";
/** The agent's secret values, one variable each: BOTTLE_GIT_GATE_SECRET_<guest name>. */
export const SECRET_ENV_PREFIX = "BOTTLE_GIT_GATE_SECRET_";

/** The variable holding the upstream token of the remote at `index`. */
export function tokenEnvName(index: number): string {
  return `BOTTLE_GIT_GATE_TOKEN_${index}`;
}

export interface GateRemote {
  /** A slug: the gate serves it at /<name>.git/. */
  name: string;
  url: string;
  username: string;
  /** The variable that holds its token (tokenEnvName). */
  tokenEnv: string;
  push: string[];
  allowForcePush: boolean;
  allowDelete: boolean;
}

export type GateListen = { socket: string } | { port: number };

export interface GateOptions {
  listen: GateListen;
  /** Where the bare mirrors live: <dir>/<name>.git. */
  dir: string;
  /** One line per fetch, push, refusal; the gate and its hooks append to it. */
  log: string;
  remotes: GateRemote[];
  /** The gitleaks binary, or null: then every push is refused. */
  gitleaks: string | null;
  /** The git binary, by absolute path: the gate never looks git up on PATH itself. */
  git: string;
}

export function readGateOptions(env: NodeJS.ProcessEnv): GateOptions {
  const raw = env[GATE_OPTIONS_ENV];
  if (!raw) throw new Error(`${GATE_OPTIONS_ENV} is not set: the git gate is started by bottle's sidecars step (gitGateProcess in src/gitgate/start.ts)`);
  return JSON.parse(raw) as GateOptions;
}

/** Each secret the gate must keep from leaving, by the name a refusal gives it. */
export function secretsFromEnv(env: NodeJS.ProcessEnv, remotes: readonly GateRemote[]): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(SECRET_ENV_PREFIX) && value) secrets.set(`secret ${key.slice(SECRET_ENV_PREFIX.length)}`, value);
  }
  for (const remote of remotes) {
    const token = env[remote.tokenEnv];
    if (token) secrets.set(`the token of remote ${remote.name}`, token);
  }
  return secrets;
}
