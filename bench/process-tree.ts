// The processes a launcher started, by what they are, and their memory:
// what one bottle costs the host beyond its VM.
import { readdirSync, readFileSync } from "node:fs";

/** KiB. rss counts every page a process maps, shared ones in full; pss divides each shared page among the processes sharing it; uss is what only this process holds (what stopping it frees). */
export interface Memory {
  rss: number;
  pss: number;
  uss: number;
}

function children(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  return byParent;
}

/** What each process in the launcher's tree is, by its command line. */
function role(pid: number): string {
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  const joined = argv.join(" ");
  if (joined.includes("relay-inside.js")) return "in-jail relay (node)";
  if (argv[0]?.endsWith("bwrap")) return "bwrap";
  if (/gvproxy/.test(argv[0] ?? "") || joined.includes("fakes/gvproxy.js")) return "gvproxy";
  if (joined.includes("pipelock")) return "pipelock";
  if (joined.includes("cli/main.js")) return "launcher (node, host relays in-process)";
  return "other";
}

function memory(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+([0-9]+) kB`, "m").exec(rollup)?.[1] ?? 0);
  return { rss: field("Rss"), pss: field("Pss"), uss: field("Private_Clean") + field("Private_Dirty") };
}

export function sumMemory(parts: readonly Memory[]): Memory {
  return parts.reduce((total, m) => ({ rss: total.rss + m.rss, pss: total.pss + m.pss, uss: total.uss + m.uss }), { rss: 0, pss: 0, uss: 0 });
}

/** Memory by role over the launcher's process tree, smolvm's own processes left out (they stand in for the VM). */
export function launcherTreeMemory(root: number): Record<string, Memory> {
  const byParent = children();
  const totals: Record<string, Memory> = {};
  const visit = (pid: number): void => {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("smolvm")) return;
      const name = role(pid);
      totals[name] = sumMemory([totals[name] ?? { rss: 0, pss: 0, uss: 0 }, memory(pid)]);
    } catch {
      return;
    }
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(root);
  return totals;
}
