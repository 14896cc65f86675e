// Step `network`: gvproxy in the jail. On Linux: host relays (unix sockets
// in <run>/jail → the real sidecars), then bubblewrap with a new network
// namespace holding only `lo`, where relay-inside listens on the sidecar
// ports and starts gvproxy. Ready = gvproxy's socket exists; the machine
// then gets a checked hard link to it outside the jail.
import { realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BottleContext } from "../../../context.js";
import { BottleError, errorMessage } from "../../../lib/errors.js";
import {
  handOverJailDir,
  jailCommand,
  jailCredentials,
  jailFileSystem,
  jailFileTail,
  jailScripts,
  linkGvproxySocket,
  prepareJailDir,
  printableText,
  startHostRelays,
} from "../jail/index.js";
import { isBuiltinGitGate } from "../../../config/resolved.js";
import { gitGateSocket } from "../../../gitgate/start.js";
import { describeExit, waitForSocket } from "../process/readiness.js";
import { requireJail } from "./checks.js";
import { freshLog, logPath } from "./logs.js";
import { launchServices } from "./services.js";

const GVPROXY_READY_MS = 15_000;

export async function startNetwork(ctx: BottleContext, ports: Record<string, number>, gvproxyPath: string): Promise<{ socket: string; jail: string }> {
  const services = launchServices(ctx);
  const { supervisor, record, signal, unsafeNoJail, warn } = services;
  // A fresh jail dir: gvproxy cannot listen over a socket left by an earlier run, and nothing an earlier jail planted there is kept.
  const layout = prepareJailDir(ctx.runDir);
  // By real path: a symlink on the way could point at something the jail lacks.
  const [gvproxy, config] = [realpathSync(gvproxyPath), realpathSync(join(ctx.stageDir, "gvproxy.yaml"))];
  const inner = [gvproxy, "-config", config];

  let command: string;
  let args: string[];
  let jail: string;
  // Unjailed, gvproxy runs as bottle; macOS's sandbox does not change the uid either.
  let credentials = jailCredentials(undefined);
  if (unsafeNoJail) {
    warn(
      "UNSAFE: --unsafe-no-jail is set: gvproxy runs WITHOUT a network jail. The guest can reach every host loopback port, the host's LAN and the internet through it. Use this only for debugging.",
    );
    [command, args, jail] = [gvproxy, inner.slice(1), "none (--unsafe-no-jail)"];
  } else {
    const support = (await requireJail(ctx, false))!;
    const sidecarPorts = Object.values(ports);
    if (support.kind === "bwrap") {
      // The git gate listens on a socket in the run dir (sidecars.ts), reached only through its relay.
      const unixTargets = isBuiltinGitGate(ctx.config.gitGate) && ports.gitGate !== undefined ? { [ports.gitGate]: gitGateSocket(ctx.runDir) } : {};
      const relays = await startHostRelays({ runDir: ctx.runDir, ports: sidecarPorts, unixTargets });
      supervisor.defer(`closed the sidecar relays (${relays.sockets.length})`, () => relays.close());
    }
    const fileSystem = support.kind === "bwrap" ? jailFileSystem({ nodePath: process.execPath, files: [gvproxy], copies: [config] }) : undefined;
    if (fileSystem) {
      credentials = fileSystem.credentials;
      handOverJailDir(layout, credentials);
    }
    ({ command, args } = jailCommand({
      support,
      runDir: ctx.runDir,
      ports: sidecarPorts,
      inner,
      nodePath: process.execPath,
      ...jailScripts(),
      ...(fileSystem ? { fileSystem } : {}),
    }));
    jail = support.kind;
  }

  // gvproxy needs no environment (it reads only its -config file), and the jail gets none of bottle's secrets.
  const child = await supervisor.start("gvproxy", command, args, { log: freshLog(ctx.stageDir, "jail"), env: {} });
  supervisor.defer(`stopped gvproxy and its jail (pid ${child.pid})`, async () => {
    await child.stop();
    rmSync(layout.gvproxySocket, { force: true });
    rmSync(layout.hostGvproxySocket, { force: true });
  });
  record.addChild("jail", child.pid);
  let socket: string;
  try {
    await waitForSocket(layout.gvproxySocket, { timeoutMs: GVPROXY_READY_MS, exited: child.exited, what: "gvproxy", signal });
    socket = linkGvproxySocket(layout, credentials);
  } catch (error) {
    if (signal.aborted) throw error;
    // Both logs hold what the jailed gvproxy wrote: shown only as printable text.
    const tail = printableText([child.logTail(), jailFileTail(layout.gvproxyLog)].filter(Boolean).join("\n"));
    throw new BottleError("failed", `${errorMessage(error)}${tail ? `\nlast log lines:\n${tail.replace(/^/gm, "  | ")}` : ""}`, { cause: error });
  }
  // The guest's only network path: its death ends the launch (or the running bottle).
  child.onUnexpectedExit((exit) => services.fail(`gvproxy (in its jail) exited unexpectedly (${describeExit(exit)}); see ${logPath(ctx.stageDir, "gvproxy")}`));
  return { socket, jail };
}
