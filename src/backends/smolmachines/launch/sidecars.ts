// Step `sidecars`: pipelock and the configured git-gate/supervise sidecars
// on their 127.0.0.1 ports, each ready when its port accepts a connection;
// the built-in git gate, behind the jail's relay, on a unix socket instead.
import { join } from "node:path";
import type { BottleContext } from "../../../context.js";
import { BottleError, errorMessage } from "../../../errors.js";
import type { FromEnv } from "../../../config/define.js";
import { injectedSecrets, isBuiltinGitGate } from "../../../config/resolved.js";
import { isPortFree } from "../ports.js";
import { describeExit, listenerInGroup, waitForPort, waitForSocket } from "../process/readiness.js";
import { activeSidecars, configuredSidecar, SIDECAR_LOG_ROLE, type SidecarName } from "../sidecars.js";
import { gitGateLaunchProcess, gitGateListen, gitGateSummary, gitGateTokens } from "./git-gate.js";
import { preparePipelock, withInjectorName } from "./pipelock.js";
import { injectorProcess, type InjectedCredential } from "../../../injector/start.js";
import { injectorBaseUrl } from "../injection.js";
import { freshLog, logPath } from "./logs.js";
import { launchServices } from "./services.js";
import { recordRefusals } from "./refusals.js";
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
  /** Said before it starts. */
  warnings?: string[];
}

const GIT_GATE_READY_MS = 15_000;
const INJECTOR_READY_MS = 15_000;

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
  /** Gives pipelock its own /etc/hosts when secrets are injected; null where there is none (then injection is refused). */
  bwrap: string | null;
}

/** What the build decided for injected secrets: the name pipelock reaches the injector by; null without any. */
export type Injection = { upstreamName: string } | null;

/**
 * The secret values this launch knows, by what they are: the agent's, by
 * their guest names, and each git remote's token. pipelock looks for all of
 * them leaving the guest.
 */
function knownSecrets(ctx: BottleContext): Record<string, string> {
  const secrets: Record<string, string> = { ...agentSecrets(ctx) };
  const gitGate = ctx.config.gitGate;
  if (isBuiltinGitGate(gitGate)) {
    for (const [remote, token] of Object.entries(gitGateTokens(gitGate))) secrets[`the token of git remote ${remote}`] = token;
  }
  return secrets;
}

function agentSecrets(ctx: BottleContext): Record<string, string> {
  return resolveEnv("agent.secrets", ctx.config.agent.secrets) as Record<string, string>;
}

/** Each injected secret with its host, header, this launch's placeholder and its real value. */
function injectedCredentials(ctx: BottleContext, placeholders: Readonly<Record<string, string>>): InjectedCredential[] {
  const values = agentSecrets(ctx);
  return injectedSecrets(ctx.config).map(([name, { inject }]) => ({ host: inject.host, header: inject.header, placeholder: placeholders[name]!, value: values[name]! }));
}

function pipelockCommand(ctx: BottleContext, port: number, tools: SidecarTools, injection: Injection): SidecarCommand {
  const start = preparePipelock(ctx, tools.pipelock, port, knownSecrets(ctx));
  if (injection === null) return { ...start, readyTimeoutMs: PIPELOCK_READY_MS, logRole: SIDECAR_LOG_ROLE.pipelock };
  if (tools.bwrap === null) {
    throw new BottleError("agent.secrets: injected credentials need bubblewrap (bwrap) on Linux: pipelock reaches the injector by a name only its own /etc/hosts knows; install it, or give the agent the secret without `inject`");
  }
  return { ...withInjectorName(start, tools.bwrap, ctx.runDir, injection.upstreamName), readyTimeoutMs: PIPELOCK_READY_MS, logRole: SIDECAR_LOG_ROLE.pipelock };
}

function sidecarCommand(ctx: BottleContext, name: SidecarName, ports: Record<string, number>, tools: SidecarTools, relayed: boolean, injection: Injection): SidecarCommand {
  const port = ports[name]!;
  const gitGate = ctx.config.gitGate;
  if (name === "gitGate" && isBuiltinGitGate(gitGate)) {
    const listen = gitGateListen(ctx.runDir, port, relayed);
    const { gitleaks } = tools;
    const secrets = agentSecrets(ctx);
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
  if (name === "pipelock") return pipelockCommand(ctx, port, tools, injection);
  if (name === "injector") {
    if (injection === null) throw new Error("the injector is active without an injector name from the build");
    const credentials = injectedCredentials(ctx, launchServices(ctx).placeholders);
    return {
      ...injectorProcess({ port, pipelockPort: ports.pipelock!, upstreamName: injection.upstreamName, credentials }),
      readyTimeoutMs: INJECTOR_READY_MS,
      logRole: SIDECAR_LOG_ROLE.injector,
      summary: credentials.map((c) => `injector: ${c.header} for ${c.host} at ${injectorBaseUrl(port, c.host)}; the guest holds a placeholder, never the value`),
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
export async function startSidecars(ctx: BottleContext, ports: Record<string, number>, tools: SidecarTools, relayed: boolean, injection: Injection): Promise<Record<string, number>> {
  const services = launchServices(ctx);
  const { supervisor, record, signal } = services;
  // Every command line and environment first: a secret whose host variable
  // is unset fails the step before any sidecar has started.
  const planned = activeSidecars(ctx.config).map((name) => ({ name, port: ports[name]!, ...sidecarCommand(ctx, name, ports, tools, relayed, injection) }));
  record.setPorts(ports);
  // Undone with the step: a record still listing them would make the ports
  // task of a retry (after a port was lost) keep them as held by this bottle.
  supervisor.defer("the run record's sidecar ports", () => {
    record.setPorts({});
    return null;
  });
  for (const { name, port, command, args, env, readyTimeoutMs, socket, logRole, summary, gitGateRecord, warnings } of planned) {
    for (const warning of warnings ?? []) services.warn(warning);
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
    if (name === "pipelock") recordRefusals(ctx, services, child.logFile, injection?.upstreamName ?? null);
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
