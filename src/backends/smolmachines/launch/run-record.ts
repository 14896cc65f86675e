// Claiming the run dir for one launch: the record in it says which process
// owns the bottle's children. A record whose owner died (kill -9, power
// loss) is stale: its children are stopped and the run dir cleared.
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { BottleError } from "../../../errors.js";
import { writeFileAtomic } from "../../../graph/index.js";
import { killIfSame, processStartTime } from "../process/identity.js";
import { RUNTIME_RECORD, launcherAlive, readRuntimeRecord, type GitGateRecord, type RuntimeRecord } from "../runtime-record.js";

export class RunRecord {
  private constructor(
    readonly runDir: string,
    private readonly record: RuntimeRecord,
  ) {}

  /** Claims the run dir, or fails naming the process that holds it. */
  static claim(runDir: string, base: Omit<RuntimeRecord, "pid" | "pidStartTime" | "children" | "startedAt" | "control" | "ports">): { record: RunRecord; cleanedStale: string[] } {
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    for (const dir of [dirname(runDir), runDir]) ownPrivateDir(dir);
    const cleanedStale: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const record: RuntimeRecord = {
        ...base,
        pid: process.pid,
        pidStartTime: processStartTime(process.pid),
        children: {},
        ports: {},
        startedAt: Date.now(),
        control: join(runDir, "control.sock"),
      };
      try {
        const fd = openSync(join(runDir, RUNTIME_RECORD), "wx", 0o600);
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
    throw new BottleError(`could not claim ${runDir}: another launch keeps claiming it`);
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

  setGitGate(gitGate: GitGateRecord | null): void {
    if (gitGate) this.record.gitGate = gitGate;
    else delete this.record.gitGate;
    this.save();
  }

  get snapshot(): Readonly<RuntimeRecord> {
    return this.record;
  }

  private save(): void {
    writeFileAtomic(join(this.runDir, RUNTIME_RECORD), JSON.stringify(this.record, null, 2));
  }

  /** Removes the run dir: sockets, pid files, this record. */
  release(): void {
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

export function alreadyRunning(holder: RuntimeRecord): BottleError {
  return new BottleError(
    `bottle \`${holder.slug}\` is already running (pid ${holder.pid}, since ${new Date(holder.startedAt).toISOString()}); stop it with \`bottle stop ${holder.slug}\``,
  );
}

/**
 * The run dir holds the sockets the guest's only network path goes through
 * (gvproxy's, the relays', the control socket). In a shared /tmp another
 * user could create it, or its parent, first: it must be a real directory
 * of ours that nobody else can enter.
 */
function ownPrivateDir(dir: string): void {
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new BottleError(`${dir} is not a directory (a symlink?); bottle will not put its sockets there. Remove it, or set XDG_RUNTIME_DIR`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new BottleError(
      `${dir} belongs to uid ${stat.uid}, not to you (uid ${uid}): its owner could replace bottle's sockets. Remove it, or set XDG_RUNTIME_DIR to a directory of your own`,
    );
  }
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Stops what a dead launch left running and empties its run dir. */
export function clearStale(runDir: string, holder: RuntimeRecord | null): string[] {
  const cleaned: string[] = [];
  for (const [role, child] of Object.entries(holder?.children ?? {})) {
    if (killIfSame(child.pid, child.startTime)) cleaned.push(`killed leftover ${role} (pid ${child.pid})`);
  }
  for (const entry of safeReaddir(runDir)) rmSync(join(runDir, entry), { recursive: true, force: true });
  if (holder) cleaned.push(`cleared the stale run dir of pid ${holder.pid}`);
  return cleaned;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
