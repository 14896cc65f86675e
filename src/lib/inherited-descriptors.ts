// Descriptors bottle did not open itself. Node marks every descriptor it
// opens close-on-exec, but not the ones it was started with: a file or
// socket the shell (or whatever ran bottle) left open above 2 would reach
// every child, the jail included, where its path does not even exist.
// Entry scripts import this: node: imports only.
import { closeSync, readdirSync, readFileSync } from "node:fs";

/** O_CLOEXEC as /proc/<pid>/fdinfo's `flags:` reports it (octal) on Linux's common ABIs (x86_64, aarch64). */
const O_CLOEXEC = 0o2000000;

/**
 * Closes every descriptor above 2 that is not close-on-exec: all of them
 * were inherited, since Node opens its own with O_CLOEXEC. Call it first
 * thing in an entry script, before anything is spawned. Linux only (it
 * reads /proc/self/fdinfo); elsewhere it does nothing. Returns what it closed.
 */
export function closeInheritedDescriptors(): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  const closed: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    let flags: string | undefined;
    try {
      flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
    } catch {
      continue; // the listing's own descriptor, closed since
    }
    if (flags === undefined || (Number.parseInt(flags, 8) & O_CLOEXEC) !== 0) continue;
    try {
      closeSync(fd);
      closed.push(fd);
    } catch {
      // already gone
    }
  }
  return closed;
}
