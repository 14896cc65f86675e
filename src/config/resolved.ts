// The validated config with every default filled in and host paths made
// absolute: what tasks read.
import type { FromEnv, SecretRef } from "./define.js";

export type Sidecar = {
  command: string[];
  env: Record<string, string | FromEnv>;
  readyTimeoutMs: number;
};

export type GitRemote = {
  url: string;
  token: { fromEnv: string; username: string };
  push: string[];
  allowForcePush: boolean;
  allowDelete: boolean;
};

/** The built-in git gate (as opposed to a gitGate sidecar command). */
export type GitGate = { remotes: Record<string, GitRemote> };

export function isBuiltinGitGate(gitGate: Sidecar | GitGate | null): gitGate is GitGate {
  return gitGate !== null && "remotes" in gitGate;
}

export type BottleConfig = {
  name: string;
  backend: string;
  image: string;
  agent: {
    command: string[];
    env: Record<string, string>;
    secrets: Record<string, SecretRef>;
    workdir: string;
  };
  workspace: { host: string; guest: string; readOnly: boolean } | null;
  resources: { cpus: number; memoryMiB: number };
  /** presets: resolved to a version. pipelock allows their hosts, `allow` and `passthrough`, nothing else. */
  egress: { presets: { name: string; version: number }[]; allow: string[]; passthrough: string[]; maxResponseMiB: number };
  gitGate: Sidecar | GitGate | null;
  supervise: Sidecar | null;
  guest: {
    /** Absolute host path of the gvforwarder binary, or "image". */
    gvforwarder: string;
  };
  network: { subnetOctet: number | null };
};

export const DEFAULT_BACKEND = "smolmachines";
export const DEFAULT_CPUS = 2;
export const DEFAULT_MEMORY_MIB = 4096;
export const DEFAULT_SIDECAR_READY_MS = 10_000;
export const DEFAULT_GIT_TOKEN_USERNAME = "x-access-token";
/**
 * pipelock holds an intercepted response whole to scan it and refuses a
 * larger one (its own default, 5 MiB, refuses common package tarballs). The
 * largest npm and PyPI packages in everyday use (prebuilt native binaries,
 * compilers, ML wheels excepted) stay well under this.
 */
export const DEFAULT_MAX_RESPONSE_MIB = 128;

/** The secrets the guest gets a placeholder for, by guest name. */
export function injectedSecrets(config: BottleConfig): [string, Required<SecretRef>][] {
  return Object.entries(config.agent.secrets).filter((entry): entry is [string, Required<SecretRef>] => entry[1].inject !== undefined);
}
