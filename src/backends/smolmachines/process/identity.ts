// Telling a pid we started apart from an unrelated process that reused it.
import { readFileSync } from "node:fs";

/** Linux: the process's start time in clock ticks (field 22 of /proc/PID/stat); null elsewhere. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Linux: a dead process nobody has reaped yet (kill(pid, 0) still succeeds on it). */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}

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
