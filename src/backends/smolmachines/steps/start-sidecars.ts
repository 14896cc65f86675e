// Step `sidecars`: pipelock and the configured git-gate/supervise sidecars
// on their 127.0.0.1 ports, each ready when its port accepts a connection;
// the built-in git gate, behind the jail's relay, on a unix socket instead;
// the credential injector when a secret is injected. Everything that can
// refuse the launch is checked before anything starts.
import type { FromEnv } from "../../../config/define.js";
import { injectedSecrets, isBuiltinGitGate, type GitGate } from "../../../config/resolved.js";
import { injectorProcess, type InjectedCredential } from "../../../injector/start.js";
import { BottleError, errorMessage } from "../../../lib/errors.js";
import type { BuildContext } from "../context.js";
import { injectorBaseUrl, type InjectorName } from "../injection.js";
import type { GitGateSummary } from "../launch-record.js";
import { freshLog, logPath } from "../logs.js";
import { isPortFree } from "../ports.js";
import type { PreflightResult } from "../preflight.js";
import { describeExit, listenerInGroup, waitForPort, waitForSocket } from "../process/readiness.js";
import { activeSidecars, configuredSidecar, SIDECAR_LOG_ROLE, type SidecarName } from "../sidecar-names.js";
import { gitGateLaunchProcess, gitGateListen, gitGateSummary, gitGateTokens } from "./git-gate.js";
import { preparePipelock, withInjectorName } from "./pipelock.js";
import { recordRefusals } from "./refusals.js";
import type { LaunchContext } from "./services.js";

const PIPELOCK_READY_MS = 15_000;
const GIT_GATE_READY_MS = 15_000;
const INJECTOR_READY_MS = 15_000;
/** How a sidecar (pipelock, a Go program) says its port was taken, in its log: the only sign it gives. */
const ADDRESS_IN_USE = /address already in use|EADDRINUSE|bind: address/i;

/** A sidecar's port was taken by someone else between allocation and start: the launch allocates again and retries. */
function portTaken(sidecar: string, port: number): BottleError<"port-taken"> {
  return new BottleError("port-taken", `127.0.0.1:${port}, allocated to ${sidecar}, was taken by another process`, { detail: { sidecar, port } });
}

/** How one sidecar is started, and how the launch knows it is ready. */
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
  /** The built-in git gate's entry in the launch record, set once it is ready. */
  gitGateRecord?: GitGateSummary;
  /** Said before it starts. */
  warnings?: string[];
  /** Once it is ready, with its log (pipelock: its refusals are recorded from there). */
  onReady?: (logFile: string) => void;
}

/** Where preflight found the programs the sidecars step runs. */
interface SidecarTools {
  pipelock: string;
  /** null: not installed, and the git gate refuses every push, saying why. */
  gitleaks: string | null;
  /** Gives pipelock its own /etc/hosts when secrets are injected; null where there is none (then injection is refused). */
  bwrap: string | null;
}

/** What the sidecars are built from: where each program is, the ports, the jail's relays, the injector's name. */
interface SidecarPlan {
  ctx: LaunchContext;
  ports: Readonly<Record<string, number>>;
  tools: SidecarTools;
  /** The jail's host relays carry the guest's connections (bwrap), so the git gate can listen on a unix socket only they reach. */
  relayed: boolean;
  injection: InjectorName | null;
}

export interface SidecarsInput {
  preflight: PreflightResult;
  ports: Record<string, number>;
  /** The injector's name from the build; null without injected secrets. */
  injection: InjectorName | null;
}

export async function startSidecars(ctx: LaunchContext, input: SidecarsInput): Promise<Record<string, number>> {
  const { record, undo } = ctx.launch;
  // Preflight refused a launch without its programs; the jail can still refuse it, before anything starts.
  const jail = await ctx.launch.jail();
  const { found } = input.preflight;
  const plan: SidecarPlan = {
    ctx,
    ports: input.ports,
    tools: { pipelock: found.pipelock!, gitleaks: found.gitleaks ?? null, bwrap: found.bwrap ?? null },
    relayed: jail?.kind === "bwrap",
    injection: input.injection,
  };
  // Every command line and environment first: a secret whose host variable
  // is unset fails the step before any sidecar has started.
  const planned = activeSidecars(ctx.config).map((name) => ({ name, port: input.ports[name]!, ...sidecarCommand(plan, name) }));
  record.setPorts(input.ports);
  // Undone with the step: a record still listing them would make the ports
  // task of a retry (after a port was lost) keep them as held by this bottle.
  undo.defer("the launch record's sidecar ports", () => {
    record.setPorts({});
    return null;
  });
  for (const sidecar of planned) await startSidecar(ctx, sidecar);
  return input.ports;
}

/** Starts one sidecar and waits until it is ready; from then on its death ends the launch. */
async function startSidecar(ctx: LaunchContext, sidecar: SidecarCommand & { name: string; port: number }): Promise<void> {
  const { supervisor, undo, record, signal } = ctx.launch;
  const { name, port, socket } = sidecar;
  for (const warning of sidecar.warnings ?? []) ctx.launch.warn(warning);
  if (socket === undefined && !(await isPortFree(port))) throw portTaken(name, port);
  const child = await supervisor.start(name, sidecar.command, sidecar.args, { env: sidecar.env, log: freshLog(ctx.stageDir, sidecar.logRole) });
  undo.defer(`stopped ${name} (pid ${child.pid})`, async () => void (await child.stop()));
  record.addChild(name, child.pid);
  try {
    const wait = { timeoutMs: sidecar.readyTimeoutMs, exited: child.exited, what: name, signal };
    await (socket === undefined ? waitForPort(port, wait) : waitForSocket(socket, wait));
  } catch (error) {
    const tail = child.logTail();
    if (ADDRESS_IN_USE.test(tail)) throw portTaken(name, port);
    if (signal.aborted) throw error;
    throw new BottleError("failed", `${errorMessage(error)}${tail ? `\nlast lines of ${child.logFile}:\n${tail.replace(/^/gm, "  | ")}` : ""}`, { cause: error });
  }
  // The port answered, but is it our sidecar? Someone who took it first answers too.
  if (socket === undefined && listenerInGroup(port, child.pid) === false) throw portTaken(name, port);
  for (const line of sidecar.summary ?? []) ctx.launch.say(line);
  sidecar.onReady?.(child.logFile);
  if (sidecar.gitGateRecord) {
    record.setGitGate(sidecar.gitGateRecord);
    undo.defer("the launch record's git gate", () => {
      record.setGitGate(null);
      return null;
    });
  }
  // From now on the guest depends on it: its death ends the launch (or the running bottle).
  child.onUnexpectedExit((exit) => ctx.launch.childLost(`${name} exited unexpectedly (${describeExit(exit)})`, child.logFile));
}

function sidecarCommand(plan: SidecarPlan, name: SidecarName): SidecarCommand {
  const gitGate = plan.ctx.config.gitGate;
  switch (name) {
    case "pipelock":
      return pipelockCommand(plan);
    case "injector":
      return injectorCommand(plan);
    case "gitGate":
      if (isBuiltinGitGate(gitGate)) return gitGateCommand(plan, gitGate);
      return configuredCommand(plan, name);
    case "supervise":
      return configuredCommand(plan, name);
  }
}

function pipelockCommand({ ctx, ports, tools, injection }: SidecarPlan): SidecarCommand {
  const start = preparePipelock(ctx, tools.pipelock, ports.pipelock!, knownSecrets(ctx));
  const onReady = (logFile: string): void => recordRefusals(ctx, logFile, injection?.upstreamName ?? null);
  if (injection === null) return { ...start, readyTimeoutMs: PIPELOCK_READY_MS, logRole: SIDECAR_LOG_ROLE.pipelock, onReady };
  if (tools.bwrap === null) {
    throw new BottleError("missing-tool", "agent.secrets: injected credentials need bubblewrap (bwrap) on Linux: pipelock reaches the injector by a name only its own /etc/hosts knows; install it, or give the agent the secret without `inject`");
  }
  return { ...withInjectorName(start, tools.bwrap, ctx.runDir, injection.upstreamName), readyTimeoutMs: PIPELOCK_READY_MS, logRole: SIDECAR_LOG_ROLE.pipelock, onReady };
}

function gitGateCommand({ ctx, ports, tools, relayed }: SidecarPlan, gitGate: GitGate): SidecarCommand {
  const port = ports.gitGate!;
  const listen = gitGateListen(ctx.runDir, port, relayed);
  return {
    // The gate and its hooks append their lines to the log the supervisor gives it.
    ...gitGateLaunchProcess(ctx, gitGate, { listen, secrets: agentSecrets(ctx), log: logPath(ctx.stageDir, SIDECAR_LOG_ROLE.gitGate), gitleaks: tools.gitleaks }),
    readyTimeoutMs: GIT_GATE_READY_MS,
    ...("socket" in listen ? { socket: listen.socket } : {}),
    logRole: SIDECAR_LOG_ROLE.gitGate,
    summary: gitGateSummary(gitGate, port, tools.gitleaks, listen),
    gitGateRecord: { port, remotes: Object.entries(gitGate.remotes).map(([remote, { url }]) => ({ name: remote, upstream: url })) },
  };
}

function injectorCommand({ ctx, ports, injection }: SidecarPlan): SidecarCommand {
  if (injection === null) throw new Error("the injector is active without an injector name from the build");
  const port = ports.injector!;
  const credentials = injectedCredentials(ctx, ctx.launch.placeholders);
  return {
    ...injectorProcess({ port, pipelockPort: ports.pipelock!, upstreamName: injection.upstreamName, credentials }),
    readyTimeoutMs: INJECTOR_READY_MS,
    logRole: SIDECAR_LOG_ROLE.injector,
    summary: credentials.map((c) => `injector: ${c.header} for ${c.host} at ${injectorBaseUrl(port, c.host)}; the guest holds a placeholder, never the value`),
  };
}

/** A gitGate or supervise command from the config, `{port}` replaced by its port. */
function configuredCommand({ ctx, ports }: SidecarPlan, name: "gitGate" | "supervise"): SidecarCommand {
  const spec = configuredSidecar(ctx.config, name)!;
  const [command, ...args] = spec.command.map((part) => part.replaceAll("{port}", String(ports[name]!)));
  return {
    command: command!,
    args,
    env: { ...process.env, ...hostValues(`${name}.env`, spec.env) },
    readyTimeoutMs: spec.readyTimeoutMs,
    logRole: SIDECAR_LOG_ROLE[name],
  };
}

/** Each variable's value: as the config writes it, or from the host variable it names (which must be set). */
function hostValues(field: string, env: Readonly<Record<string, string | FromEnv>>): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") resolved[name] = value;
    else {
      const fromHost = process.env[value.fromEnv];
      if (fromHost === undefined) throw new BottleError("failed", `${field}.${name}: the host variable ${value.fromEnv} is not set`);
      resolved[name] = fromHost;
    }
  }
  return resolved;
}

function agentSecrets(ctx: Pick<BuildContext, "config">): Record<string, string> {
  return hostValues("agent.secrets", ctx.config.agent.secrets);
}

/**
 * The secret values this launch knows, by what they are: the agent's, by
 * their guest names, and each git remote's token. pipelock looks for all of
 * them leaving the guest.
 */
function knownSecrets(ctx: Pick<BuildContext, "config">): Record<string, string> {
  const secrets: Record<string, string> = { ...agentSecrets(ctx) };
  const gitGate = ctx.config.gitGate;
  if (isBuiltinGitGate(gitGate)) {
    for (const [remote, token] of Object.entries(gitGateTokens(gitGate))) secrets[`the token of git remote ${remote}`] = token;
  }
  return secrets;
}

/** Each injected secret with its host, header, this launch's placeholder and its real value. */
function injectedCredentials(ctx: Pick<BuildContext, "config">, placeholders: Readonly<Record<string, string>>): InjectedCredential[] {
  const values = agentSecrets(ctx);
  return injectedSecrets(ctx.config).map(([name, { inject }]) => ({ host: inject.host, header: inject.header, placeholder: placeholders[name]!, value: values[name]! }));
}
