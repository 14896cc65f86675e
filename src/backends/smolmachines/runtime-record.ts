// The running bottle's record in its run dir: written by the launching
// process (the supervisor), read by `stop`, `ls`, watch mode and the ports
// task (whose ports a running bottle holds).
import type { GitGateSummary } from "../types.js";
import { join } from "node:path";
import { isZombie, processStartTime, isProcessAlive } from "../../lib/proc.js";
import { readFileNoFollow } from "../../lib/no-follow.js";
import { checkRunDir, CONTROL_SOCKET, LAUNCH_RECORD_FILE } from "./run-dir.js";

export interface RuntimeRecord {
  /** The bottle process that owns every child. */
  pid: number;
  /** Its start time (Linux), so that another process reusing the pid is not taken for it. */
  pidStartTime?: string | null;
  slug: string;
  stageDir: string;
  configPath: string;
  octet: number;
  ports: Record<string, number>;
  /** Child processes by role, with their start time so a reused pid is never mistaken for them. */
  children: Record<string, { pid: number; startTime: string | null }>;
  startedAt: number;
  /** The built-in git gate, once started: its port (proxy.internal:<port> in the guest) and each remote's upstream. */
  gitGate?: GitGateSummary;
  /** The control socket `stop` and watch mode talk to. */
  control: string;
}

/**
 * The record in a run dir, or null when there is none. The run dir is
 * checked first (yours, 0700, no symlink at any level: else a BottleError
 * says why); the control socket is always the run dir's own, whatever the
 * file says.
 */
export function readRuntimeRecord(runDir: string): RuntimeRecord | null {
  if (!checkRunDir(runDir)) return null;
  const text = readFileNoFollow(join(runDir, LAUNCH_RECORD_FILE));
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as RuntimeRecord;
    if (!Number.isInteger(record.pid) || record.pid <= 1 || typeof record.children !== "object" || record.children === null) return null;
    return { ...record, control: join(runDir, CONTROL_SOCKET) };
  } catch {
    return null;
  }
}

/**
 * Whether the process that wrote the record is still running: alive, not a
 * zombie, and (where the start time is known) not another process that
 * reused its pid after the launcher died.
 */
export function launcherAlive(record: RuntimeRecord): boolean {
  if (!isProcessAlive(record.pid) || isZombie(record.pid)) return false;
  if (record.pidStartTime == null) return true;
  const now = processStartTime(record.pid);
  return now === null || now === record.pidStartTime;
}

/** The record, only if its supervisor is still alive. */
export function liveRuntimeRecord(runDir: string): RuntimeRecord | null {
  const record = readRuntimeRecord(runDir);
  return record && launcherAlive(record) ? record : null;
}
