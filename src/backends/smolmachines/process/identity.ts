// Telling a pid we started apart from an unrelated process that reused it,
// or that a forged record names.
import { readFileSync, statSync } from "node:fs";
import { processStartTime } from "../../../lib/proc.js";

/** Signals a child's whole process group, or the child alone if it leads none; false if it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      return false;
    }
  }
  return true;
}

/** Kills a recorded child only if it is still the same process. */
export function killIfSame(pid: number, startTime: string | null, signal: NodeJS.Signals = "SIGKILL"): boolean {
  if (startTime === null || processStartTime(pid) !== startTime) return false;
  return signalGroup(pid, signal);
}

/**
 * The variable a launcher puts in its own environment, so every process it
 * starts (and their children) inherits it: `<launcher pid>:<its start time>`.
 * Once the launcher is dead its children are re-parented and lead their own
 * process groups, so their ancestry proves nothing; this mark does.
 */
export const LAUNCHER_MARK_ENV = "BOTTLE_LAUNCHER";

export interface ProcessIdentity {
  pid: number;
  startTime: string | null;
}

export function launcherMark(launcher: ProcessIdentity): string {
  return `${launcher.pid}:${launcher.startTime ?? "?"}`;
}

/** Marks this process as a launcher: children started from now on inherit the mark. */
export function markSelfAsLauncher(): void {
  process.env[LAUNCHER_MARK_ENV] = launcherMark({ pid: process.pid, startTime: processStartTime(process.pid) });
}

/**
 * Whether a recorded child is provably the recorded launcher's: still the
 * same process (start time), running as you, and started with the
 * launcher's mark in its environment (only the launcher and what it starts
 * carry it; another user's process cannot carry it under your uid). A
 * forged record copying a live process's pid and start time fails the last
 * two checks. Linux only: elsewhere nothing is provable, and nothing killed.
 */
export function provenChild(child: ProcessIdentity, launcher: ProcessIdentity): boolean {
  if (child.startTime === null || launcher.startTime == null) return false;
  if (processStartTime(child.pid) !== child.startTime) return false;
  try {
    if (statSync(`/proc/${child.pid}`).uid !== process.getuid?.()) return false;
    const environ = readFileSync(`/proc/${child.pid}/environ`, "utf8").split("\0");
    return environ.includes(`${LAUNCHER_MARK_ENV}=${launcherMark(launcher)}`);
  } catch {
    return false;
  }
}

/** Kills a recorded child (and its process group) only when it is provably the launcher's. */
export function killIfProven(child: ProcessIdentity, launcher: ProcessIdentity, signal: NodeJS.Signals = "SIGKILL"): boolean {
  return provenChild(child, launcher) && signalGroup(child.pid, signal);
}
