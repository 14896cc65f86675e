// The launch record: what a running launch leaves in its run dir (the file
// is supervisor.json, see run-dir.ts), saying which process owns the
// bottle's children, which they are, its ports and its git gate. The
// launching process claims it (exclusively) and keeps it current; `stop`,
// `ls`, `rm`, `bottle policy`, watch mode and the ports task read it. A
// record whose launcher died (kill -9, power loss) is stale: what it left is
// stopped (when provably its own) and the run dir cleared.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/atomic-write.js";
import { BottleError } from "../../lib/errors.js";
import { readFileNoFollow, removeOwnedFiles } from "../../lib/no-follow.js";
import { isProcessAlive, isZombie, processStartTime } from "../../lib/proc.js";
import { killIfProven, markSelfAsLauncher } from "./process/identity.js";
import { checkRunDir, CONTROL_SOCKET, LAUNCH_RECORD_FILE, ownedInRunDir } from "./run-dir.js";

/** A running bottle's git gate, as `ls` shows it: its port (proxy.internal:<port> in the guest) and each remote's upstream. */
export interface GitGateSummary {
  port: number;
  remotes: { name: string; upstream: string }[];
}

export interface LaunchRecord {
  /** The launching process, which owns every child. */
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
  /** The built-in git gate, once started. */
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
export function readLaunchRecord(runDir: string): LaunchRecord | null {
  if (!checkRunDir(runDir)) return null;
  const text = readFileNoFollow(join(runDir, LAUNCH_RECORD_FILE));
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as LaunchRecord;
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
export function launcherAlive(record: LaunchRecord): boolean {
  if (!isProcessAlive(record.pid) || isZombie(record.pid)) return false;
  if (record.pidStartTime == null) return true;
  const now = processStartTime(record.pid);
  return now === null || now === record.pidStartTime;
}

/** The record, only if its launcher is still alive. */
export function liveLaunchRecord(runDir: string): LaunchRecord | null {
  const record = readLaunchRecord(runDir);
  return record && launcherAlive(record) ? record : null;
}

export function alreadyRunning(holder: LaunchRecord): BottleError<"already-running"> {
  return new BottleError(
    "already-running",
    `bottle \`${holder.slug}\` is already running (pid ${holder.pid}, since ${new Date(holder.startedAt).toISOString()}); stop it with \`bottle stop ${holder.slug}\``,
  );
}

/** What a launch says of itself when it claims the run dir. */
export type LaunchRecordBase = Pick<LaunchRecord, "slug" | "stageDir" | "configPath" | "octet">;

/**
 * Claims the run dir for this process: the record is created exclusively,
 * after a stale one (its launcher dead) is cleared. Fails naming the
 * process that holds it.
 */
export function claimLaunchRecord(runDir: string, base: LaunchRecordBase): { record: ClaimedLaunchRecord; cleanedStale: string[] } {
  // Yours, 0700, no symlink at any level: in a shared /tmp another user could make it first.
  checkRunDir(runDir, { create: true });
  // Every child started from now on carries this launcher's mark (see provenChild).
  markSelfAsLauncher();
  const cleanedStale: string[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const record: LaunchRecord = {
      ...base,
      pid: process.pid,
      pidStartTime: processStartTime(process.pid),
      children: {},
      ports: {},
      startedAt: Date.now(),
      control: join(runDir, CONTROL_SOCKET),
    };
    try {
      const fd = openSync(join(runDir, LAUNCH_RECORD_FILE), "wx", 0o600);
      writeSync(fd, JSON.stringify(record, null, 2));
      closeSync(fd);
      return { record: new ClaimedLaunchRecord(runDir, record), cleanedStale };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLaunchRecord(runDir);
    if (holder && launcherAlive(holder)) throw alreadyRunning(holder);
    cleanedStale.push(...clearStale(runDir, holder));
  }
  throw new BottleError("already-running", `could not claim ${runDir}: another launch keeps claiming it`);
}

/** This process's own launch record, kept current as the launch goes. */
export class ClaimedLaunchRecord {
  constructor(
    readonly runDir: string,
    private readonly record: LaunchRecord,
  ) {}

  get control(): string {
    return this.record.control;
  }

  addChild(role: string, pid: number): void {
    this.record.children[role] = { pid, startTime: processStartTime(pid) };
    this.save();
  }

  setPorts(ports: Record<string, number>): void {
    this.record.ports = { ...ports };
    this.save();
  }

  setGitGate(gitGate: GitGateSummary | null): void {
    if (gitGate) this.record.gitGate = gitGate;
    else delete this.record.gitGate;
    this.save();
  }

  private save(): void {
    writeFileAtomic(join(this.runDir, LAUNCH_RECORD_FILE), JSON.stringify(this.record, null, 2));
  }

  /** Removes the run dir: sockets, pid files, this record. */
  release(): void {
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

/**
 * Stops what a dead launch left running and empties its run dir of the
 * files bottle makes there. A recorded child is killed only when it is
 * provably the dead launcher's (provenChild): a forged or stale record
 * cannot make bottle kill another process.
 */
export function clearStale(runDir: string, holder: LaunchRecord | null): string[] {
  const cleaned: string[] = [];
  const launcher = { pid: holder?.pid ?? 0, startTime: holder?.pidStartTime ?? null };
  for (const [role, child] of Object.entries(holder?.children ?? {})) {
    if (killIfProven(child, launcher)) cleaned.push(`killed leftover ${role} (pid ${child.pid})`);
    else if (child.startTime !== null && processStartTime(child.pid) === child.startTime) {
      cleaned.push(`left pid ${child.pid} (recorded as ${role}) alone: nothing proves it is this bottle's; if it is, \`kill ${child.pid}\``);
    }
  }
  const kept = removeOwnedFiles(runDir, ownedInRunDir, { keepRoot: true });
  if (holder) cleaned.push(`cleared the stale run dir of pid ${holder.pid}`);
  if (kept.length) cleaned.push(`left what bottle did not make there: ${kept.join(", ")}`);
  return cleaned;
}
