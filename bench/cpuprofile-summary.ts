// CLI: the top functions of a V8 .cpuprofile (node --cpu-prof) by self time,
// with their inclusive time, for reading where a run spends itself.
//   node dist/bench/cpuprofile-summary.js FILE.cpuprofile [TOP]
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${url ? `${basename(url)}:${lineNumber + 1}` : ""}`.trim();
}

export function summarise(profile: CpuProfile, top: number): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const leaf = frameName(byId.get(id)!);
    self.set(leaf, (self.get(leaf) ?? 0) + us);
    // Count each frame once per sample, even when it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  });

  const ms = (us: number): string => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number): string => `${((100 * us) / totalUs).toFixed(1)}%`.padStart(6);
  const lines = [`total ${ms(totalUs).trim()} ms sampled`, `${"self ms".padStart(7)} ${"self".padStart(6)} ${"incl ms".padStart(7)}  function`];
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${ms(us)} ${pct(us)} ${ms(inclusive.get(name) ?? 0)}  ${name}`);
  }
  return lines;
}

const [file, top] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: cpuprofile-summary FILE.cpuprofile [TOP]\n");
  process.exit(2);
}
console.log(summarise(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(top ?? 25)).join("\n"));
