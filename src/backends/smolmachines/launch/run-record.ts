// Claiming the run dir for one launch: the record in it says which process
// owns the bottle's children. A record whose owner died (kill -9, power
// loss) is stale: its children are stopped and the run dir cleared.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BottleError } from "../../../lib/errors.js";
import { killIfProven, markSelfAsLauncher } from "../process/identity.js";
import { launcherAlive, readRuntimeRecord, type RuntimeRecord } from "../runtime-record.js";
import type { GitGateSummary } from "../../types.js";
import { processStartTime } from "../../../lib/proc.js";
import { writeFileAtomic } from "../../../lib/atomic-write.js";
import { removeKnownFiles } from "../../../lib/no-follow.js";
import { runDirFile, checkRunDir, CONTROL_SOCKET, LAUNCH_RECORD_FILE } from "../run-dir.js";

export class RunRecord {
  private constructor(
    readonly runDir: string,
    private readonly record: RuntimeRecord,
  ) {}

  /** Claims the run dir, or fails naming the process that holds it. */
  static claim(runDir: string, base: Omit<RuntimeRecord, "pid" | "pidStartTime" | "children" | "startedAt" | "control" | "ports">): { record: RunRecord; cleanedStale: string[] } {
    // Yours, 0700, no symlink at any level: in a shared /tmp another user could make it first.
    checkRunDir(runDir, { create: true });
    // Every child started from now on carries this launcher's mark (see provenChild).
    markSelfAsLauncher();
    const cleanedStale: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const record: RuntimeRecord = {
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
        return { record: new RunRecord(runDir, record), cleanedStale };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = readRuntimeRecord(runDir);
      if (holder && launcherAlive(holder)) throw alreadyRunning(holder);
      cleanedStale.push(...clearStale(runDir, holder));
    }
    throw new BottleError("already-running", `could not claim ${runDir}: another launch keeps claiming it`);
  }

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

  get snapshot(): Readonly<RuntimeRecord> {
    return this.record;
  }

  private save(): void {
    writeFileAtomic(join(this.runDir, LAUNCH_RECORD_FILE), JSON.stringify(this.record, null, 2));
  }

  /** Removes the run dir: sockets, pid files, this record. */
  release(): void {
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

export function alreadyRunning(holder: RuntimeRecord): BottleError {
  return new BottleError(
    "already-running",
    `bottle \`${holder.slug}\` is already running (pid ${holder.pid}, since ${new Date(holder.startedAt).toISOString()}); stop it with \`bottle stop ${holder.slug}\``,
  );
}

/**
 * Stops what a dead launch left running and empties its run dir of the
 * files bottle makes there. A recorded child is killed only when it is
 * provably the dead launcher's (provenChild): a forged or stale record
 * cannot make bottle kill another process.
 */
export function clearStale(runDir: string, holder: RuntimeRecord | null): string[] {
  const cleaned: string[] = [];
  const launcher = { pid: holder?.pid ?? 0, startTime: holder?.pidStartTime ?? null };
  for (const [role, child] of Object.entries(holder?.children ?? {})) {
    if (killIfProven(child, launcher)) cleaned.push(`killed leftover ${role} (pid ${child.pid})`);
    else if (child.startTime !== null && processStartTime(child.pid) === child.startTime) {
      cleaned.push(`left pid ${child.pid} (recorded as ${role}) alone: nothing proves it is this bottle's; if it is, \`kill ${child.pid}\``);
    }
  }
  const kept = removeKnownFiles(runDir, runDirFile, { keepRoot: true });
  if (holder) cleaned.push(`cleared the stale run dir of pid ${holder.pid}`);
  if (kept.length) cleaned.push(`left what bottle did not make there: ${kept.join(", ")}`);
  return cleaned;
}
