// Step `sidecars`: pipelock and the configured git-gate/supervise sidecars
// on their 127.0.0.1 ports, each ready when its port accepts a connection.
import { join } from "node:path";
import type { BottleContext } from "../../../context.js";
import { BottleError } from "../../../errors.js";
import type { FromEnv } from "../../../config/define.js";
import { isPortFree } from "../ports.js";
import { describeExit, listenerInGroup, waitForPort } from "../process/readiness.js";
import { activeSidecars, configuredSidecar, type SidecarName } from "../sidecars.js";
import { freshLog } from "./logs.js";
import { launchServices } from "./services.js";

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
}

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

function sidecarCommand(ctx: BottleContext, name: SidecarName, port: number, pipelockPath: string): SidecarCommand {
  if (name === "pipelock") {
    // pipelock scans its own environment for secrets (dlp.scan_env), so it
    // gets the agent's secret values under their guest names to recognise them leaving.
    return {
      command: pipelockPath,
      args: ["run", "--config", join(ctx.stageDir, "pipelock.yaml"), "--listen", `127.0.0.1:${port}`],
      env: { ...process.env, ...resolveEnv("agent.secrets", ctx.config.agent.secrets) },
      readyTimeoutMs: PIPELOCK_READY_MS,
    };
  }
  const spec = configuredSidecar(ctx.config, name)!;
  const [command, ...args] = spec.command.map((part) => part.replaceAll("{port}", String(port)));
  return { command: command!, args, env: { ...process.env, ...resolveEnv(`${name}.env`, spec.env) }, readyTimeoutMs: spec.readyTimeoutMs };
}

export async function startSidecars(ctx: BottleContext, ports: Record<string, number>, pipelockPath: string): Promise<Record<string, number>> {
  const services = launchServices(ctx);
  const { supervisor, record, signal } = services;
  // Every command line and environment first: a secret whose host variable
  // is unset fails the step before any sidecar has started.
  const planned = activeSidecars(ctx.config).map((name) => ({ name, port: ports[name]!, ...sidecarCommand(ctx, name, ports[name]!, pipelockPath) }));
  record.setPorts(ports);
  // Undone with the step: a record still listing them would make the ports
  // task of a retry (after a port was lost) keep them as held by this bottle.
  supervisor.defer("the run record's sidecar ports", () => {
    record.setPorts({});
    return null;
  });
  for (const { name, port, command, args, env, readyTimeoutMs } of planned) {
    if (!(await isPortFree(port))) throw new PortTakenError(name, port);
    const child = await supervisor.start(name, command, args, { env, logFile: freshLog(ctx.stageDir, name) });
    supervisor.defer(`stopped ${name} (pid ${child.pid})`, async () => void (await child.stop()));
    record.addChild(name, child.pid);
    try {
      await waitForPort(port, { timeoutMs: readyTimeoutMs, exited: child.exited, what: name, signal });
    } catch (error) {
      const tail = child.logTail();
      if (ADDRESS_IN_USE.test(tail)) throw new PortTakenError(name, port);
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new BottleError(`${message}${tail ? `\nlast lines of ${child.logFile}:\n${tail.replace(/^/gm, "  | ")}` : ""}`, { cause: error });
    }
    // The port answered, but is it our sidecar? Someone who took it first answers too.
    if (listenerInGroup(port, child.pid) === false) throw new PortTakenError(name, port);
    // From now on the guest depends on it: its death ends the launch (or the running bottle).
    child.onUnexpectedExit((exit) => services.fail(`${name} exited unexpectedly (${describeExit(exit)}); see ${child.logFile}`));
  }
  return ports;
}
