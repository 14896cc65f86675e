// A git gate for a test, the way a launch runs it: on a unix socket in a
// private run dir, reached through the host relay (relay-host.ts) from a
// loopback port standing in for the jail's relay, with the guest's git
// configured by the same GIT_CONFIG_* variables the Smolfile gets.
import { spawn } from "node:child_process";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { startHostRelays, type HostRelays } from "../../src/backends/smolmachines/jail/relay-host.js";
import { prepareJailDir } from "../../src/backends/smolmachines/jail/jail-dir.js";
import { pipeBoth } from "../../src/backends/smolmachines/jail/pipe-both.js";
import { gitGateEnv } from "../../src/backends/smolmachines/render/smolfile.js";
import type { GitGate, GitRemote } from "../../src/config/resolved.js";
import { waitForPort, waitForSocket } from "../../src/backends/smolmachines/process/readiness.js";
import type { ExitInfo } from "../../src/backends/smolmachines/process/supervisor.js";
import { gitGateProcess, gitGateSocket, type GitGateInput } from "../../src/gitgate/start.js";
import { plainGitEnv } from "./git-upstream.js";

// A gate a failed test did not stop must not outlive the test file.
const started = new Set<ReturnType<typeof spawn>>();
process.on("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

export interface RunningGitGate {
  pid: number;
  exited: Promise<ExitInfo>;
  stop(): Promise<void>;
}

/**
 * Starts a git gate as the launch's sidecars step does (same command line
 * and environment), its output appended to its log, and resolves once it
 * is ready: its socket appeared, or its port accepts.
 */
export async function startGitGate(input: GitGateInput, timeoutMs = 15_000): Promise<RunningGitGate> {
  const { command, args, env } = gitGateProcess(input);
  const out = openSync(input.log, "a", 0o600);
  const child = spawn(command, args, { env, stdio: ["ignore", out, out] });
  closeSync(out);
  started.add(child);
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once("exit", (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  const wait = { timeoutMs, exited, what: "the git gate" };
  try {
    await ("socket" in input.listen ? waitForSocket(input.listen.socket, wait) : waitForPort(input.listen.port, wait));
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    pid: child.pid!,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface GateUnderTest {
  gate: RunningGitGate;
  stageDir: string;
  runDir: string;
  log: string;
  /** The loopback port the "guest" reaches the gate on (the jail relay's stand-in). */
  port: number;
  /** git's environment in the "guest": the Smolfile's rewriting, no token. */
  guestEnv: NodeJS.ProcessEnv;
  guestGitEnv: Record<string, string>;
  readLog(): string;
  stop(): Promise<void>;
}

export interface GateSetup {
  root: string;
  remotes: Record<string, GitRemote>;
  tokens: Record<string, string>;
  secrets: Record<string, string>;
  gitleaks: string | null;
  /** The gate's search path (where it finds git); this process's PATH when absent. */
  pathEnv?: string;
}

export function remote(url: string, push: string[] = [], extra: Partial<GitRemote> = {}): GitRemote {
  return { url, token: { fromEnv: "UNUSED", username: "x-access-token" }, push, allowForcePush: false, allowDelete: false, ...extra };
}

/** The jail relay's part: a loopback port whose connections go to a unix socket. */
function loopbackToUnix(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer({ allowHalfOpen: true }, (client) => pipeBoth(client, createConnection({ path, allowHalfOpen: true })));
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

export async function startGateUnderTest(setup: GateSetup): Promise<GateUnderTest> {
  const stageDir = join(setup.root, "stage");
  const runDir = join(setup.root, "run");
  for (const dir of [stageDir, join(stageDir, "logs"), runDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  const log = join(stageDir, "logs", "git-gate.log");
  const socket = gitGateSocket(runDir);
  const gate = await startGitGate({
    remotes: setup.remotes,
    tokens: setup.tokens,
    secrets: setup.secrets,
    listen: { socket },
    dir: join(stageDir, "git"),
    log,
    gitleaks: setup.gitleaks,
    pathEnv: setup.pathEnv ?? process.env.PATH ?? "/usr/bin:/bin",
  });
  // The gate's port number only names the relay socket here; nothing listens on it on the host.
  const gatePort = 1;
  let relays: HostRelays;
  try {
    prepareJailDir(runDir); // as the launch does before it starts the relays
    relays = await startHostRelays({ runDir, ports: [gatePort], unixTargets: { [gatePort]: socket } });
  } catch (error) {
    await gate.stop(); // a gate left running would hold the test runner's output pipe open
    throw error;
  }
  const jailSide = await loopbackToUnix(relays.sockets[0]!);
  const port = (jailSide.address() as AddressInfo).port;
  const gitGate: GitGate = { remotes: setup.remotes };
  const guestGitEnv = gitGateEnv(gitGate, `http://127.0.0.1:${port}`);
  const guestEnv = { ...plainGitEnv(join(setup.root, "guest-home")), ...guestGitEnv };
  return {
    gate,
    stageDir,
    runDir,
    log,
    port,
    guestEnv,
    guestGitEnv,
    readLog: () => readFileSync(log, "utf8"),
    stop: async () => {
      await relays.close();
      await new Promise<void>((resolve) => jailSide.close(() => resolve()));
      await gate.stop();
    },
  };
}
