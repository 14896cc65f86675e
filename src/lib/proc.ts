// What the kernel says about a process: alive or not, and (Linux) the
// fields of /proc/PID/stat. Elsewhere the /proc readers answer null or [].
import { readdirSync, readFileSync } from "node:fs";

/** kill(pid, 0) succeeds, or fails only for lack of permission: the pid is in use. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Linux: the fields of /proc/PID/stat after the command name (field 3, the state, first); null when unreadable. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Linux: the process's start time in clock ticks (field 22 of /proc/PID/stat); null elsewhere. */
export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** Linux: a dead process nobody has reaped yet (kill(pid, 0) still succeeds on it). */
export function isZombie(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === "Z" || state === "X";
}

/** Linux: the process's parent (field 4); null when unreadable. */
export function parentPid(pid: number): number | null {
  return numberOrNull(statFields(pid)?.[1]);
}

/** Linux: the process group it is in (field 5); null when unreadable. */
export function processGroup(pid: number): number | null {
  return numberOrNull(statFields(pid)?.[2]);
}

function numberOrNull(field: string | undefined): number | null {
  const value = Number(field);
  return field !== undefined && Number.isInteger(value) ? value : null;
}

/** Linux: the pids of every process, read from /proc; [] elsewhere. */
export function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Linux: every live process under `pid` (its children, theirs, ...), read
 * from /proc; [] elsewhere. A process that made a session or group of its
 * own (the jail's, under bwrap --new-session) is among them, where a group
 * signal would miss it.
 */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const child of allPids()) {
    const parent = parentPid(child);
    if (parent === null) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  for (let queue = [pid], next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
