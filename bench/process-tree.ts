// The processes a launcher started, by what they are, and their resident
// memory: what one bottle costs the host beyond its VM.
import { readdirSync, readFileSync } from "node:fs";

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
  if (joined.includes("bwrap-launcher.js")) return "jail launcher (node)";
  if (joined.includes("relay-inside.js")) return "in-jail relay (node)";
  if (argv[0]?.endsWith("bwrap")) return "bwrap";
  if (/gvproxy/.test(argv[0] ?? "") || joined.includes("fakes/gvproxy.js")) return "gvproxy";
  if (joined.includes("pipelock")) return "pipelock";
  if (joined.includes("cli/main.js")) return "launcher (node, host relays in-process)";
  return "other";
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+([0-9]+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : 0;
}

/** RSS (KiB) by role over the launcher's process tree, smolvm's own processes left out (they stand in for the VM). */
export function launcherTreeRss(root: number): Record<string, number> {
  const byParent = children();
  const totals: Record<string, number> = {};
  const visit = (pid: number): void => {
    try {
      const name = role(pid);
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("smolvm")) return;
      totals[name] = (totals[name] ?? 0) + rssKiB(pid);
    } catch {
      return;
    }
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(root);
  return totals;
}

