// Step `machine`: the smolvm machine bottle-<slug>. Created when missing,
// re-created when the Smolfile or the create arguments changed since it was
// created, otherwise reused; then started. Its undo deletes a machine this
// launch created (a failed launch leaves no half-made machine) and stops
// any other, so a stopped bottle stays resumable.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hashJson } from "../../../graph/index.js";
import { sha256Base64url } from "../../../lib/hash.js";
import { GUEST_SOCKET, machineName } from "../guest-layout.js";
import type { LaunchContext } from "./services.js";

/** How the machine was made: compared on the next launch to decide whether it can be reused. */
export type MachineResult = {
  name: string;
  /** The Smolfile's content hash. */
  smolfile: string;
  /** The hash of the create arguments (the Smolfile's path, the socket mount). */
  createArgs: string;
};

export async function startMachine(
  ctx: LaunchContext,
  input: {
    /** gvproxy's socket outside the jail, mounted into the guest. */
    socket: string;
    /** How the machine was made last time, if known. */
    previous: MachineResult | undefined;
    log: (message: string) => void;
  },
): Promise<MachineResult> {
  const { socket, previous, log } = input;
  const { smolvm, supervisor } = ctx.launch;
  const name = machineName(ctx.config.name);
  const smolfilePath = join(ctx.stageDir, "smolfile.toml");
  const mounts = [[socket, GUEST_SOCKET]] as const;
  const result: MachineResult = { name, smolfile: sha256Base64url(readFileSync(smolfilePath)), createArgs: hashJson({ smolfilePath, mounts }) };

  let status = await smolvm.status(name);
  if (status && (!previous || previous.smolfile !== result.smolfile || previous.createArgs !== result.createArgs)) {
    log(previous ? "the Smolfile or its create arguments changed: re-creating the machine" : "no record of how the machine was made: re-creating it");
    await smolvm.delete(name);
    status = null;
  }

  let created = false;
  ctx.launch.undo.defer(`machine ${name}`, () => undoMachine(ctx, name, created));
  if (!status) {
    log(`creating ${name}`);
    created = true;
    await smolvm.create(name, smolfilePath, mounts);
  } else if (status.state === "running") {
    // Its socket mount points at a gvproxy from an earlier launch: restart it.
    log(`${name} was left running: restarting it`);
    await smolvm.stop(name);
  }
  log(`starting ${name}`);
  await smolvm.start(name);
  // smolvm has no pid file: its status names the VM process, which a forced
  // exit (a second Ctrl-C) kills along with bottle's own children.
  const running = await smolvm.status(name);
  if (running?.pid) supervisor.adopt("vm", running.pid);
  return result;
}

/**
 * The step's undo: a machine this launch created is deleted unless the agent
 * got it (a failed launch leaves no half-made machine); any other is
 * stopped, so a stopped bottle stays resumable.
 */
async function undoMachine(ctx: LaunchContext, name: string, created: boolean): Promise<string | null> {
  // The undo runs after an abort too (Ctrl-C, `bottle stop`), so its calls must not carry the launch's signal.
  const smolvm = ctx.launch.smolvm.withoutSignal();
  try {
    const now = await smolvm.status(name);
    if (!now) return null;
    if (created && !ctx.launch.agentAttached()) {
      await smolvm.delete(name);
      return `deleted machine ${name}, which this launch had created`;
    }
    // Only a machine with a VM process needs stopping: `created`, `stopped`
    // and `failed` (a boot that did not happen) have none, and smolvm refuses to stop them.
    if (now.state !== "running" && now.state !== "unreachable") return null;
    await smolvm.stop(name);
    return `stopped machine ${name}`;
  } finally {
    // Until here a forced exit still kills the VM itself.
    ctx.launch.supervisor.disown("vm");
  }
}
