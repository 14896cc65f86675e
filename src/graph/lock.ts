// One lock per stage dir, so two bottle processes never run the same graph
// at once. The lock file names its holder; a holder that died (kill -9,
// power loss) is detected by pid and its lock taken over.
import { closeSync, openSync, readFileSync, watch, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname } from "node:path";
import { removeFileQuietly } from "../lib/atomic-write.js";
import { BottleError } from "../lib/errors.js";
import { isProcessAlive } from "../lib/proc.js";

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: number;
}

/** The lock is still held after the wait: a BottleError ("stage-busy") naming the holder. */
function stageBusy(path: string, holder: LockHolder | null, waitedMs: number): BottleError<"stage-busy"> {
  const who = holder ? `pid ${holder.pid} (${holder.command}, since ${new Date(holder.since).toISOString()})` : "another process";
  return new BottleError("stage-busy", `${dirname(path)} is in use by ${who}; waited ${Math.round(waitedMs / 1000)}s. Wait for it to finish, or stop it.`, {
    detail: { path, holder, waitedMs },
  });
}

export interface StageLock {
  readonly path: string;
  release(): void;
}

function readHolder(path: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    return typeof holder.pid === "number" ? holder : null;
  } catch {
    return null;
  }
}

function holderIsGone(holder: LockHolder | null): boolean {
  // A lock from another host (a shared file system) cannot be checked: never take it over.
  return holder !== null && holder.host === hostname() && !isProcessAlive(holder.pid);
}

function tryCreate(path: string, command: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), command, since: Date.now() };
  writeSync(fd, JSON.stringify(holder));
  closeSync(fd);
  return true;
}

/**
 * Takes over a dead holder's lock. A second, short-lived lock serialises
 * take-overs so two waiters cannot both remove the dead lock and each
 * believe they hold a fresh one.
 */
function tryTakeOver(path: string, command: string): boolean {
  const guard = `${path}.takeover`;
  if (!tryCreate(guard, command)) {
    if (holderIsGone(readHolder(guard))) removeFileQuietly(guard);
    return false;
  }
  try {
    if (!holderIsGone(readHolder(path))) return false;
    removeFileQuietly(path);
    return tryCreate(path, command);
  } finally {
    removeFileQuietly(guard);
  }
}

/** Resolves when the lock file may have changed, after `ms` at most, or on abort. */
function lockChange(path: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = (): void => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    try {
      watcher = watch(dirname(path), (_event, name) => {
        if (name === null || name === basename(path)) done();
      });
    } catch {
      // No watcher: the timeout still wakes us.
    }
  });
}

export interface LockOptions {
  /** What holds it, for the message another process shows while it waits (`bottle build`). */
  command: string;
  timeoutMs: number;
  /** Cancels the wait (the signal's reason, an AbortError, is thrown). */
  signal?: AbortSignal;
  /** Called once, when the lock turns out to be held and the wait begins. */
  onWait?: (holder: LockHolder | null) => void;
}

export async function acquireStageLock(path: string, options: LockOptions): Promise<StageLock> {
  const started = Date.now();
  let announced = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (tryCreate(path, options.command)) break;
    const holder = readHolder(path);
    if (holder?.pid === process.pid && holder.host === hostname()) {
      throw new Error(`${path} is already held by this process`);
    }
    if (holderIsGone(holder) && tryTakeOver(path, options.command)) break;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw stageBusy(path, holder, waited);
    if (!announced) {
      announced = true;
      options.onWait?.(holder);
    }
    // Wake on a change to the lock file; re-check now and then anyway, because
    // a holder that dies without releasing changes nothing on disk.
    await lockChange(path, Math.min(250, options.timeoutMs - waited), options.signal);
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener("exit", release);
    if (readHolder(path)?.pid === process.pid) removeFileQuietly(path);
  };
  process.on("exit", release);
  return { path, release };
}
