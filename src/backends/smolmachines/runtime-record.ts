// The running bottle's record in its run dir: written by the launching
// process (the supervisor), read by `stop`, `ls`, watch mode and the ports
// task (whose ports a running bottle holds).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive } from "../../graph/index.js";
import { isZombie, processStartTime } from "./process/identity.js";

export const RUNTIME_RECORD = "supervisor.json";

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
  gitGate?: GitGateRecord;
  /** The control socket `stop` and watch mode talk to. */
  control: string;
}

export interface GitGateRecord {
  port: number;
  remotes: { name: string; upstream: string }[];
}

export function readRuntimeRecord(runDir: string): RuntimeRecord | null {
  try {
    return JSON.parse(readFileSync(join(runDir, RUNTIME_RECORD), "utf8")) as RuntimeRecord;
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
