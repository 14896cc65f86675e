// Step `network`: gvproxy in the jail. On Linux: host relays (unix sockets
// in <run>/jail → the real sidecars), then bubblewrap (bottle's own child)
// with a new network namespace holding only `lo`, where relay-inside (the
// jail's pid 1) listens on the sidecar ports and starts gvproxy. Ready =
// gvproxy's socket exists; the machine then gets a checked hard link to it
// outside the jail.
import { realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isBuiltinGitGate } from "../../../config/resolved.js";
import { gitGateSocket } from "../../../gitgate/start.js";
import { BottleError, errorMessage } from "../../../lib/errors.js";
import {
  handOverJailDir,
  jailCommand,
  jailCredentials,
  jailFileSystem,
  jailFileTail,
  jailScripts,
  jailSeccompFilter,
  linkGvproxySocket,
  prepareJailDir,
  printableText,
  spawnBwrap,
  startHostRelays,
  type AvailableJail,
  type JailCredentials,
  type JailLayout,
} from "../jail/index.js";
import { freshLog, logPath } from "../logs.js";
import { describeExit, waitForSocket } from "../process/readiness.js";
import type { OwnSpawn } from "../process/supervisor.js";
import type { LaunchContext } from "./services.js";

const GVPROXY_READY_MS = 15_000;

/** How gvproxy is started: the command line, what the jail is, and whose uid the jail's files must belong to. */
interface GvproxyCommand {
  command: string;
  args: string[];
  /** bwrap: started by bottle itself, with its descriptors (bwrap-process.ts). */
  spawn?: OwnSpawn;
  /** For the launch's result: the jail's kind, or that there is none. */
  jail: string;
  credentials: JailCredentials;
}

export async function startNetwork(ctx: LaunchContext, input: { ports: Record<string, number>; gvproxy: string }): Promise<{ socket: string; jail: string }> {
  const { supervisor, undo, record, signal } = ctx.launch;
  // A fresh jail dir: gvproxy cannot listen over a socket left by an earlier run, and nothing an earlier jail planted there is kept.
  const layout = prepareJailDir(ctx.runDir);
  // By real path: a symlink on the way could point at something the jail lacks.
  const [gvproxy, config] = [realpathSync(input.gvproxy), realpathSync(join(ctx.stageDir, "gvproxy.yaml"))];
  const jail = await ctx.launch.jail();
  const start = jail === null ? unjailed(ctx, gvproxy, config) : await jailed(ctx, jail, input.ports, layout, { gvproxy, config });

  // gvproxy needs no environment (it reads only its -config file), and the jail gets none of bottle's secrets.
  const child = await supervisor.start("gvproxy", start.command, start.args, { log: freshLog(ctx.stageDir, "jail"), env: {}, ...(start.spawn ? { spawn: start.spawn } : {}) });
  undo.defer(`stopped gvproxy and its jail (pid ${child.pid})`, async () => {
    await child.stop();
    rmSync(layout.gvproxySocket, { force: true });
    rmSync(layout.hostGvproxySocket, { force: true });
  });
  record.addChild("jail", child.pid);
  let socket: string;
  try {
    await waitForSocket(layout.gvproxySocket, { timeoutMs: GVPROXY_READY_MS, exited: child.exited, what: "gvproxy", signal });
    socket = linkGvproxySocket(layout, start.credentials);
  } catch (error) {
    if (signal.aborted) throw error;
    // Both logs hold what the jailed gvproxy wrote: shown only as printable text.
    const tail = printableText([child.logTail(), jailFileTail(layout.gvproxyLog)].filter(Boolean).join("\n"));
    throw new BottleError("failed", `${errorMessage(error)}${tail ? `\nlast log lines:\n${tail.replace(/^/gm, "  | ")}` : ""}`, { cause: error });
  }
  // The guest's only network path: its death ends the launch (or the running bottle).
  child.onUnexpectedExit((exit) => ctx.launch.childLost(`gvproxy (in its jail) exited unexpectedly (${describeExit(exit)})`, logPath(ctx.stageDir, "gvproxy")));
  return { socket, jail: start.jail };
}

/** --unsafe-no-jail: gvproxy as bottle, said loudly. */
function unjailed(ctx: LaunchContext, gvproxy: string, config: string): GvproxyCommand {
  ctx.launch.warn(
    "UNSAFE: --unsafe-no-jail is set: gvproxy runs WITHOUT a network jail. The guest can reach every host loopback port, the host's LAN and the internet through it. Use this only for debugging.",
  );
  // Unjailed, gvproxy runs as bottle.
  return { command: gvproxy, args: ["-config", config], jail: "none (--unsafe-no-jail)", credentials: jailCredentials(undefined) };
}

/** gvproxy in the jail; with bubblewrap, the host relays to the sidecars start first (undone with the step). */
async function jailed(ctx: LaunchContext, support: AvailableJail, ports: Record<string, number>, layout: JailLayout, files: { gvproxy: string; config: string }): Promise<GvproxyCommand> {
  const sidecarPorts = Object.values(ports);
  // macOS's sandbox does not change the uid.
  let credentials = jailCredentials(undefined);
  let fileSystem: ReturnType<typeof jailFileSystem> | undefined;
  if (support.kind === "bwrap") {
    // A CPU the seccomp filter does not know: refused before anything starts.
    jailSeccompFilter();
    // The git gate listens on a socket in the run dir (start-sidecars.ts), reached only through its relay.
    const unixTargets = isBuiltinGitGate(ctx.config.gitGate) && ports.gitGate !== undefined ? { [ports.gitGate]: gitGateSocket(ctx.runDir) } : {};
    const relays = await startHostRelays({ runDir: ctx.runDir, ports: sidecarPorts, unixTargets });
    ctx.launch.undo.defer(`closed the sidecar relays (${relays.sockets.length})`, () => relays.close());
    fileSystem = jailFileSystem({ nodePath: process.execPath, files: [files.gvproxy], copies: [files.config] });
    credentials = fileSystem.credentials;
    handOverJailDir(layout, credentials);
  }
  const { command, args, copies } = jailCommand({
    support,
    runDir: ctx.runDir,
    ports: sidecarPorts,
    inner: [files.gvproxy, "-config", files.config],
    ...jailScripts(),
    ...(fileSystem ? { fileSystem } : {}),
  });
  return { command, args, jail: support.kind, credentials, ...(support.kind === "bwrap" ? { spawn: bwrapSpawn(copies) } : {}) };
}

/**
 * bwrap as a supervised child: bottle is its parent (so --die-with-parent
 * ends the jail with bottle), and a stop's SIGTERM goes to the jail's pid 1.
 */
function bwrapSpawn(copies: readonly string[]): OwnSpawn {
  return (program, args, { cwd, log }) => {
    const bwrap = spawnBwrap(program, args, { copies, stdout: log, stderr: log, cwd, detached: true });
    return { pid: bwrap.child.pid, exited: bwrap.exited, signal: bwrap.signal };
  };
}
