// Starting the git gate: the command line and environment the launch's
// sidecars step hands its supervisor, and startGitGate() for tests (and
// the acceptance suite), which spawns it directly and waits until it is
// ready. The gate's environment holds only PATH, its options, the tokens and
// the secret values: no proxy variables, nothing else of the caller's.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GitRemote } from "../config/resolved.js";
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
  /** PATH for the gate (it runs git and gitleaks). */
  pathEnv: string;
}

export interface GitGateProcess {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function gitGateProgram(): string {
  return fileURLToPath(new URL("./main.js", import.meta.url));
}

export function gitGateProcess(input: GitGateInput): GitGateProcess {
  const names = Object.keys(input.remotes).sort();
  const options: GateOptions = {
    listen: input.listen,
    dir: input.dir,
    log: input.log,
    gitleaks: input.gitleaks,
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
  return { command: process.execPath, args: [gitGateProgram()], env };
}

export interface RunningGitGate {
  pid: number;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

function accepts(listen: GateListen): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = "port" in listen ? connect({ host: "127.0.0.1", port: listen.port }) : connect({ path: listen.socket });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Spawns the gate (output appended to its log) and resolves once it accepts connections. */
export async function startGitGate(input: GitGateInput, timeoutMs = 15_000): Promise<RunningGitGate> {
  const { command, args, env } = gitGateProcess(input);
  const out = openSync(input.log, "a", 0o600);
  const child = spawn(command, args, { env, stdio: ["ignore", out, out] });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (done) throw new Error(`the git gate exited (code ${await exited}) before it was ready; see ${input.log}`);
    if (("socket" in input.listen ? existsSync(input.listen.socket) : true) && (await accepts(input.listen))) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the git gate was not ready within ${timeoutMs} ms; see ${input.log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return {
    pid: child.pid!,
    exited,
    stop: async () => {
      if (!done) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The gate's socket in a bottle's run dir. */
export function gitGateSocket(runDir: string): string {
  return join(runDir, "git-gate.sock");
}
