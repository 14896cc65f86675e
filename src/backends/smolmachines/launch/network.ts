// Step `network`: gvproxy in the jail. On Linux: host relays (unix sockets
// in the run dir → the real sidecars), then bubblewrap with a new network
// namespace holding only `lo`, where relay-inside listens on the sidecar
// ports and starts gvproxy. Ready = gvproxy's control socket exists.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BottleContext } from "../../../context.js";
import { BottleError } from "../../../errors.js";
import { isBuiltinGitGate } from "../../../config/resolved.js";
import { gitGateSocket } from "../../../gitgate/start.js";
import { detectJail, existingMasks, jailCommand, jailReadOnlyPaths, jailScripts, packageRoot, startHostRelays } from "../jail/index.js";
import { describeExit, waitForPath } from "../process/readiness.js";
import { requireJail } from "./checks.js";
import { freshLog } from "./logs.js";
import { launchServices } from "./services.js";

const GVPROXY_READY_MS = 15_000;

export function gvproxySocket(runDir: string): string {
  return join(runDir, "gvproxy.sock");
}

export async function startNetwork(ctx: BottleContext, ports: Record<string, number>, gvproxyPath: string): Promise<{ socket: string; jail: string }> {
  const services = launchServices(ctx);
  const { supervisor, record, signal, unsafeNoJail, warn } = services;
  const socket = gvproxySocket(ctx.runDir);
  // gvproxy refuses to start over a socket file left by an earlier run.
  for (const leftover of [socket, join(ctx.runDir, "gvproxy.pid")]) if (existsSync(leftover)) rmSync(leftover, { force: true });
  const inner = [gvproxyPath, "-config", join(ctx.stageDir, "gvproxy.yaml")];

  let command: string;
  let args: string[];
  let jail: string;
  if (unsafeNoJail) {
    warn(
      "UNSAFE: --unsafe-no-jail is set: gvproxy runs WITHOUT a network jail. The guest can reach every host loopback port, the host's LAN and the internet through it. Use this only for debugging.",
    );
    [command, args, jail] = [gvproxyPath, inner.slice(1), "none (--unsafe-no-jail)"];
  } else {
    const support = (await requireJail(ctx, false))!;
    const sidecarPorts = Object.values(ports);
    if (support.kind === "bwrap") {
      // The git gate listens on a socket in the run dir (sidecars.ts), reached only through its relay.
      const unixTargets = isBuiltinGitGate(ctx.config.gitGate) && ports.gitGate !== undefined ? { [ports.gitGate]: gitGateSocket(ctx.runDir) } : {};
      const relays = await startHostRelays({ runDir: ctx.runDir, ports: sidecarPorts, unixTargets });
      supervisor.defer(`closed the sidecar relays (${relays.sockets.length})`, () => relays.close());
    }
    const masks = existingMasks();
    const needed = [packageRoot(), process.execPath, gvproxyPath, join(ctx.stageDir, "gvproxy.yaml")];
    ({ command, args } = jailCommand({
      support,
      runDir: ctx.runDir,
      ports: sidecarPorts,
      inner,
      nodePath: process.execPath,
      ...jailScripts(),
      masks,
      readOnly: jailReadOnlyPaths(needed, masks),
    }));
    jail = support.kind;
  }

  const child = await supervisor.start("gvproxy", command, args, { logFile: freshLog(ctx.stageDir, "jail") });
  supervisor.defer(`stopped gvproxy and its jail (pid ${child.pid})`, async () => {
    await child.stop();
    rmSync(socket, { force: true });
  });
  record.addChild("jail", child.pid);
  try {
    await waitForPath(socket, { timeoutMs: GVPROXY_READY_MS, exited: child.exited, what: "gvproxy", signal });
  } catch (error) {
    if (signal.aborted) throw error;
    const tail = [child.logTail(), gvproxyLogTail(ctx.runDir)].filter(Boolean).join("\n");
    throw new BottleError(`${error instanceof Error ? error.message : String(error)}${tail ? `\nlast log lines:\n${tail.replace(/^/gm, "  | ")}` : ""}`, { cause: error });
  }
  // The guest's only network path: its death ends the launch (or the running bottle).
  child.onUnexpectedExit((exit) => services.fail(`gvproxy (in its jail) exited unexpectedly (${describeExit(exit)}); see ${join(ctx.stageDir, "logs", "gvproxy.log")}`));
  return { socket, jail };
}

function gvproxyLogTail(runDir: string): string {
  try {
    return readFileSync(join(runDir, "gvproxy.log"), "utf8").trimEnd().split("\n").slice(-10).join("\n");
  } catch {
    return "";
  }
}
