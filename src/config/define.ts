// The types a user writes in bottle.config.ts, and defineConfig. This module
// must stay free of imports: every config that uses defineConfig loads it.

/** A reference to a host environment variable; the value never enters a file. */
export type FromEnv = {
  fromEnv: string;
};

/**
 * The credential is not given to the guest: it gets a placeholder, and
 * bottle's injector puts the real value into `header` on requests to `host`
 * (which reach it at http://proxy.internal:<port>/<host>, named by
 * `baseUrlEnv` in the guest), after pipelock has scanned them.
 */
export interface InjectSpec {
  /** The one host the credential is for, reached over HTTPS on 443. */
  host: string;
  /** The request header that carries it, e.g. `x-api-key` or `authorization`. */
  header: string;
  /** A guest variable to set to the base URL for `host` (e.g. ANTHROPIC_BASE_URL). */
  baseUrlEnv?: string;
}

/** A secret: the host variable holding it; with `inject`, the guest holds a placeholder instead. */
export type SecretRef = FromEnv & { inject?: InjectSpec };

export interface SidecarSpec {
  /** argv; one element must contain `{port}`, replaced by the allocated port. */
  command: string[];
  /** Environment for the sidecar process: plain values or host-env references. */
  env?: Record<string, string | FromEnv>;
  /** Readiness is a TCP connect to 127.0.0.1:{port}. */
  ready?: { tcp?: true; timeoutMs?: number };
}

/** A repository the built-in git gate serves, with the host-side credential for its upstream. */
export interface GitRemoteSpec {
  /** The real upstream: https (plain http only to a loopback host). The agent uses this URL unchanged. */
  url: string;
  /** The host variable holding the upstream's token; it never enters the guest. `username` defaults to `x-access-token`. */
  token: { fromEnv: string; username?: string };
  /** Branch patterns the agent may push (`agent/*`; `refs/...` for a full ref). Default: none (fetch only). */
  push?: string[];
  /** Let a push rewrite a branch's history (a non-fast-forward update). Default false. */
  allowForcePush?: boolean;
  /** Let a push delete a branch. Default false. */
  allowDelete?: boolean;
}

export interface GitGateSpec {
  remotes: Record<string, GitRemoteSpec>;
}

export interface BottleConfigInput {
  /** The slug: names the stage dir, the run dir and the smolvm machine. */
  name: string;
  backend?: string;
  /** OCI image reference for the guest. */
  image: string;
  agent: {
    command: string[];
    env?: Record<string, string>;
    secrets?: Record<string, SecretRef>;
    workdir?: string;
  };
  workspace?: {
    /** Host directory, relative to the config file's directory. */
    host: string;
    /** Absolute path in the guest. */
    guest: string;
    readOnly?: boolean;
  };
  resources?: { cpus?: number; memoryMiB?: number };
  egress?: {
    /** Named host sets, e.g. `["claude-code"]` (its newest version) or `["claude-code@1"]`; `bottle policy` lists their hosts. */
    presets?: string[];
    /** Host names (`example.com`, `*.example.com`) allowed besides the presets'. */
    allow?: string[];
    /**
     * Hosts reached without TLS interception (they pin certificates): allowed,
     * but pipelock sees only their names, never what is sent to them.
     */
    passthrough?: string[];
    /** The largest response pipelock relays from an intercepted host (it holds it whole to scan it). Default 128. */
    maxResponseMiB?: number;
  };
  gitGate?: false | SidecarSpec | GitGateSpec;
  supervise?: false | SidecarSpec;
  guest?: {
    /** Host path of a Linux gvforwarder binary to mount, or "image" when the image has one. */
    gvforwarder?: string;
  };
  network?: {
    /** Overrides the third octet of 192.168.N.0/24 derived from the slug. */
    subnetOctet?: number;
  };
}

export function defineConfig(config: BottleConfigInput): BottleConfigInput {
  return config;
}
