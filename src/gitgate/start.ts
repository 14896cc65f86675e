// Starting the git gate: the command line and environment the launch's
// sidecars step hands its supervisor (tests start it the same way: see
// test/helpers/git-gate.ts). The gate's environment holds only PATH, its
// options, the tokens and the secret values: no proxy variables, nothing
// else of the caller's. git is resolved here, once, on that PATH, and the
// gate runs it by that absolute path.
import { join } from "node:path";
import { compiledProgram } from "../lib/package-root.js";
import type { GitRemote } from "../config/resolved.js";
import { BottleError } from "../lib/errors.js";
import { findOnPath } from "../lib/host-tools.js";
import { GATE_OPTIONS_ENV, SECRET_ENV_PREFIX, tokenEnvName, type GateListen, type GateOptions } from "./options.js";

export interface GitGateInput {
  remotes: Readonly<Record<string, GitRemote>>;
  /** The upstream token of each remote, by remote name. */
  tokens: Readonly<Record<string, string>>;
  /** The agent's secret values by their guest names: a push holding one is refused. */
  secrets: Readonly<Record<string, string>>;
  listen: GateListen;
  /** Where the mirrors go (<stage>/git). */
  dir: string;
  /** The gate's log (<stage>/logs/git-gate.log). */
  log: string;
  gitleaks: string | null;
  /** The trusted search path: where git is looked up, and the gate's PATH. */
  pathEnv: string;
}

export interface GitGateProcess {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

function gitGateProgram(): string {
  return compiledProgram("gitgate/main.js");
}

export function gitGateProcess(input: GitGateInput): GitGateProcess {
  const git = findOnPath("git", input.pathEnv);
  if (git === null) throw new BottleError("missing-tool", `git is not installed where bottle looks for programs (${input.pathEnv || "an empty PATH"}); the git gate needs it: install git (apt-get install git)`);
  const names = Object.keys(input.remotes).sort();
  const options: GateOptions = {
    listen: input.listen,
    dir: input.dir,
    log: input.log,
    gitleaks: input.gitleaks,
    git,
    remotes: names.map((name, index) => {
      const remote = input.remotes[name]!;
      return {
        name,
        url: remote.url,
        username: remote.token.username,
        tokenEnv: tokenEnvName(index),
        push: remote.push,
        allowForcePush: remote.allowForcePush,
        allowDelete: remote.allowDelete,
      };
    }),
  };
  const env: NodeJS.ProcessEnv = { PATH: input.pathEnv, [GATE_OPTIONS_ENV]: JSON.stringify(options) };
  names.forEach((name, index) => {
    const token = input.tokens[name];
    if (token !== undefined) env[tokenEnvName(index)] = token;
  });
  for (const [name, value] of Object.entries(input.secrets)) env[`${SECRET_ENV_PREFIX}${name}`] = value;
  // The argument only names the gate in `ps` (and lets a test's cleanup find
  // it by its run dir); main.js reads everything from BOTTLE_GIT_GATE.
  const where = "socket" in input.listen ? input.listen.socket : `127.0.0.1:${input.listen.port}`;
  return { command: process.execPath, args: [gitGateProgram(), where], env };
}

/** The gate's socket in the run dir, and the stage sub-directory holding its mirrors. */
export const GIT_GATE_SOCKET = "git-gate.sock";
export const MIRRORS_DIR = "git";

export function gitGateSocket(runDir: string): string {
  return join(runDir, GIT_GATE_SOCKET);
}
