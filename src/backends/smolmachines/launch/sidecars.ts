// Step `sidecars`: pipelock and the configured git-gate/supervise sidecars
// on their 127.0.0.1 ports, each ready when its port accepts a connection;
// the built-in git gate, behind the jail's relay, on a unix socket instead.
import { join } from "node:path";
import type { BottleContext } from "../../../context.js";
import { BottleError, errorMessage } from "../../../errors.js";
import type { FromEnv } from "../../../config/define.js";
import { isBuiltinGitGate } from "../../../config/resolved.js";
import { isPortFree } from "../ports.js";
import { describeExit, listenerInGroup, waitForPort, waitForSocket } from "../process/readiness.js";
import { activeSidecars, configuredSidecar, SIDECAR_LOG_ROLE, type SidecarName } from "../sidecars.js";
import { gitGateLaunchProcess, gitGateListen, gitGateSummary } from "./git-gate.js";
import { freshLog, logPath } from "./logs.js";
import { launchServices } from "./services.js";
import type { GitGateSummary } from "../../types.js";

const PIPELOCK_READY_MS = 15_000;
const ADDRESS_IN_USE = /address already in use|EADDRINUSE|bind: address/i;

/** A sidecar's port was taken by someone else between allocation and start. */
export class PortTakenError extends BottleError {
  constructor(
    readonly sidecar: string,
    readonly port: number,
  ) {
    super(`127.0.0.1:${port}, allocated to ${sidecar}, was taken by another process`);
  }
}

interface SidecarCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  /** Ready when this unix socket appears (the git gate behind the jail relay), instead of when the port accepts. */
  socket?: string;
  /** Its log is <stage>/logs/<logRole>.log. */
  logRole: string;
  /** Lines for the launch's output once it is ready. */
  summary?: string[];
  /** The built-in git gate's entry in the run record, set once it is ready. */
  gitGateRecord?: GitGateSummary;
}

const GIT_GATE_READY_MS = 15_000;

function resolveEnv(field: string, env: Record<string, string | FromEnv>): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") resolved[name] = value;
    else {
      const fromHost = process.env[value.fromEnv];
      if (fromHost === undefined) throw new BottleError(`${field}.${name}: the host variable ${value.fromEnv} is not set`);
      resolved[name] = fromHost;
    }
  }
  return resolved;
}

/** Where preflight found the programs the sidecars step runs. */
export interface SidecarTools {
  pipelock: string;
  /** null: not installed, and the git gate refuses every push, saying why. */
  gitleaks: string | null;
}

function sidecarCommand(ctx: BottleContext, name: SidecarName, port: number, tools: SidecarTools, relayed: boolean): SidecarCommand {
  const gitGate = ctx.config.gitGate;
  if (name === "gitGate" && isBuiltinGitGate(gitGate)) {
    const listen = gitGateListen(ctx.runDir, port, relayed);
    const { gitleaks } = tools;
    const secrets = resolveEnv("agent.secrets", ctx.config.agent.secrets) as Record<string, string>;
    return {
      // The gate and its hooks append their lines to the log the supervisor gives it.
      ...gitGateLaunchProcess(ctx, gitGate, { listen, secrets, log: logPath(ctx.stageDir, SIDECAR_LOG_ROLE.gitGate), gitleaks }),
      readyTimeoutMs: GIT_GATE_READY_MS,
      ...("socket" in listen ? { socket: listen.socket } : {}),
      logRole: SIDECAR_LOG_ROLE.gitGate,
      summary: gitGateSummary(gitGate, port, gitleaks, listen),
      gitGateRecord: { port, remotes: Object.entries(gitGate.remotes).map(([remote, { url }]) => ({ name: remote, upstream: url })) },
    };
  }
  if (name === "pipelock") {
    // pipelock scans its own environment for secrets (dlp.scan_env), so it
    // gets the agent's secret values under their guest names to recognise them leaving.
    return {
      command: tools.pipelock,
      args: ["run", "--config", join(ctx.stageDir, "pipelock.yaml"), "--listen", `127.0.0.1:${port}`],
      env: { ...process.env, ...resolveEnv("agent.secrets", ctx.config.agent.secrets) },
      readyTimeoutMs: PIPELOCK_READY_MS,
      logRole: SIDECAR_LOG_ROLE[name],
    };
  }
  const spec = configuredSidecar(ctx.config, name)!;
  const [command, ...args] = spec.command.map((part) => part.replaceAll("{port}", String(port)));
  return {
    command: command!,
    args,
    env: { ...process.env, ...resolveEnv(`${name}.env`, spec.env) },
    readyTimeoutMs: spec.readyTimeoutMs,
    logRole: SIDECAR_LOG_ROLE[name],
  };
}

/**
 * `relayed`: the jail's host relays carry the guest's connections (bwrap),
 * so the git gate can listen on a unix socket only they reach.
 */
export async function startSidecars(ctx: BottleContext, ports: Record<string, number>, tools: SidecarTools, relayed: boolean): Promise<Record<string, number>> {
  const services = launchServices(ctx);
  const { supervisor, record, signal } = services;
  // Every command line and environment first: a secret whose host variable
  // is unset fails the step before any sidecar has started.
  const planned = activeSidecars(ctx.config).map((name) => ({ name, port: ports[name]!, ...sidecarCommand(ctx, name, ports[name]!, tools, relayed) }));
  record.setPorts(ports);
  // Undone with the step: a record still listing them would make the ports
  // task of a retry (after a port was lost) keep them as held by this bottle.
  supervisor.defer("the run record's sidecar ports", () => {
    record.setPorts({});
    return null;
  });
  for (const { name, port, command, args, env, readyTimeoutMs, socket, logRole, summary, gitGateRecord } of planned) {
    if (socket === undefined && !(await isPortFree(port))) throw new PortTakenError(name, port);
    const child = await supervisor.start(name, command, args, { env, log: freshLog(ctx.stageDir, logRole) });
    supervisor.defer(`stopped ${name} (pid ${child.pid})`, async () => void (await child.stop()));
    record.addChild(name, child.pid);
    try {
      const wait = { timeoutMs: readyTimeoutMs, exited: child.exited, what: name, signal };
      await (socket === undefined ? waitForPort(port, wait) : waitForSocket(socket, wait));
    } catch (error) {
      const tail = child.logTail();
      if (ADDRESS_IN_USE.test(tail)) throw new PortTakenError(name, port);
      if (signal.aborted) throw error;
      const message = errorMessage(error);
      throw new BottleError(`${message}${tail ? `\nlast lines of ${child.logFile}:\n${tail.replace(/^/gm, "  | ")}` : ""}`, { cause: error });
    }
    // The port answered, but is it our sidecar? Someone who took it first answers too.
    if (socket === undefined && listenerInGroup(port, child.pid) === false) throw new PortTakenError(name, port);
    for (const line of summary ?? []) services.say(line);
    if (gitGateRecord) {
      record.setGitGate(gitGateRecord);
      supervisor.defer("the run record's git gate", () => {
        record.setGitGate(null);
        return null;
      });
    }
    // From now on the guest depends on it: its death ends the launch (or the running bottle).
    child.onUnexpectedExit((exit) => services.fail(`${name} exited unexpectedly (${describeExit(exit)}); see ${child.logFile}`));
  }
  return ports;
}
