// N bottles launched at once on one host (the namespace machine, with the
// real gvproxy, gvforwarder and pipelock), sharing one registry, one run-dir
// root and one smolvm database (whose "database is locked" refusals are
// switched on, as a busy real smolvm gives them): each agent asks its own
// pipelock for a test host in a network namespace, then all are stopped.
// Per N: the time until every agent ran, failures, host memory per bottle
// (the launcher's process tree, smolvm's stand-in for the VM left out),
// `bottle ls` with N running, and what is left after they stopped
// (processes, sockets, run dirs, running machines, network namespaces; a
// stopped machine stays, as every stopped bottle's does, to be resumed).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchEnv } from "../test/acceptance/harness.js";
import { launchProbeBottle } from "../test/acceptance/probe-bottle.js";
import { makeWorld } from "../test/acceptance/world.js";
import { BOTTLE_MAIN } from "../test/helpers/lifecycle.js";
import { fileHoldsBefore } from "../test/helpers/process.js";
import { NSVM_BIN, realNetworkTools } from "../test/helpers/real-tools.js";
import { launcherTreeMemory, sumMemory, type Memory } from "./process-tree.js";

const HOST = "probe.test";


export interface ManyResult {
  n: number;
  allRanMs: number | null;
  failures: string[];
  /** Mean over the bottles whose agent ran, KiB. */
  memoryPerBottle: Memory;
  /** The same, by what each process is. */
  memoryByRole: Record<string, Memory>;
  lsMs: number;
  leftovers: string[];
}


/** A failed launch's own words: the progress view's FAILED row (the error is printed there only) and the closing lines. */
function whyItFailed(output: string): string {
  const lines = output.split("\n");
  const failed = lines.findIndex((line) => line.startsWith("FAILED"));
  const row = failed === -1 ? [] : [lines[failed]!, ...lines.slice(failed + 1).filter((_, i, rest) => rest.slice(0, i + 1).every((l) => l.startsWith(" ")))];
  // smolvm's and the guest's own complaints (exec shares the launch's output).
  const said = lines.filter((line) => /error|net-up|not running|timed out/i.test(line) && !row.includes(line));
  return [...row, ...said.slice(0, 6), ...lines.slice(-4)].join("\n");
}

/** What a stopped set of bottles left behind: processes carrying their run dirs, sockets, run dirs, machines, network namespaces. */
function leftovers(runRoot: string, fakes: string, netnsBefore: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").includes(runRoot) && Number(pid) !== process.pid) found.push(`process ${pid}: ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0/g, " ").slice(0, 80)}`);
    } catch {
      // gone, or not readable
    }
  }
  const bottleDir = join(runRoot, "bottle");
  for (const name of existsSync(bottleDir) ? readdirSync(bottleDir) : []) found.push(`run dir ${join(bottleDir, name)} (${readdirSync(join(bottleDir, name)).join(", ") || "empty"})`);
  const db = join(fakes, "smolvm", "machines.json");
  // A stopped machine stays (a bottle is resumable); one still running is left over.
  const machines = existsSync(db) ? Object.entries((JSON.parse(readFileSync(db, "utf8")) as { machines: Record<string, { state: string }> }).machines) : [];
  for (const [machine, record] of machines) if (record.state === "running") found.push(`machine ${machine} still running`);
  for (const ns of netnsNames()) if (!netnsBefore.has(ns)) found.push(`network namespace ${ns}`);
  return found;
}

function netnsNames(): Set<string> {
  return new Set(spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]!).filter(Boolean));
}

function meanMemory(samples: readonly Memory[]): Memory {
  const total = sumMemory(samples);
  const mean = (kib: number): number => (samples.length ? Math.round(kib / samples.length) : 0);
  return { rss: mean(total.rss), pss: mean(total.pss), uss: mean(total.uss) };
}

export async function runMany(n: number): Promise<ManyResult | { skipped: string }> {
  const tools = realNetworkTools();
  if ("missing" in tools) return { skipped: tools.missing };
  const root = mkdtempSync("/tmp/bmany-");
  const world = await makeWorld(root, [HOST]);
  const before = netnsNames();
  mkdirSync(join(root, "home"));
  // One registry, one run-dir root, one smolvm database for all of them; smolvm's lock refusals switched on.
  const env: NodeJS.ProcessEnv = { ...launchEnv(join(root, "home"), tools), FAKE_BUSY_SMOLVM: String(n) };
  const runRoot = env.XDG_RUNTIME_DIR!;
  try {
    const started = performance.now();
    const bottles = Array.from({ length: n }, (_, i) => launchProbeBottle({ root, world, name: `many-${i}`, allow: [HOST], ask: [HOST], env, gvforwarder: tools.gvforwarder }));
    // Two cores boot the machines one after another: give the last one time to come up.
    const agentTimeoutMs = Math.max(90_000, 6_000 * n);
    const ran = await Promise.all(bottles.map((b) => fileHoldsBefore(b.result, HOST, b.exit, agentTimeoutMs)));
    const allRanMs = ran.every(Boolean) ? performance.now() - started : null;
    const failures: string[] = [];
    bottles.forEach((b, i) => {
      if (!ran[i]) failures.push(`${b.name}: its agent never ran\n${whyItFailed(b.output())}`);
      else {
        const answer = JSON.parse(readFileSync(b.result, "utf8")) as Record<string, number>;
        if (answer[HOST] !== 200) failures.push(`${b.name}: ${HOST} answered ${answer[HOST]}`);
      }
    });
    const trees = bottles.filter((_, i) => ran[i]).map((b) => launcherTreeMemory(b.pid));
    const memory = trees.map((tree) => sumMemory(Object.values(tree)));
    const roles = [...new Set(trees.flatMap((tree) => Object.keys(tree)))].sort();
    const memoryByRole = Object.fromEntries(roles.map((role) => [role, meanMemory(trees.map((tree) => tree[role] ?? { rss: 0, pss: 0, uss: 0 }))]));
    const lsStarted = performance.now();
    const ls = spawnSync(process.execPath, [BOTTLE_MAIN, "ls", "--json"], { env, encoding: "utf8" });
    const lsMs = performance.now() - lsStarted;
    const running = (JSON.parse(ls.stdout || "[]") as { state: string }[]).filter((row) => row.state === "running").length;
    if (running !== ran.filter(Boolean).length) failures.push(`bottle ls listed ${running} running, ${ran.filter(Boolean).length} agents ran`);
    for (const b of bottles) writeFileSync(b.go, "");
    const codes = await Promise.all(bottles.map((b) => b.exit));
    const keep = process.env.BOTTLE_BENCH_KEEP_OUTPUT;
    if (keep) bottles.forEach((b) => writeFileSync(join(keep, `${b.name}.log`), b.output()));
    codes.forEach((code, i) => code !== 0 && failures.push(`${bottles[i]!.name}: launch exited ${code}\n${whyItFailed(bottles[i]!.output())}`));
    return { n, allRanMs, failures, memoryPerBottle: meanMemory(memory), memoryByRole, lsMs, leftovers: leftovers(runRoot, env.FAKES_STATE!, before) };
  } finally {
    world.close();
    spawnSync(join(NSVM_BIN, "smolvm"), ["machine", "ls"], { env });
    rmSync(root, { recursive: true, force: true });
  }
}

const MiB = (kib: number): string => `${(kib / 1024).toFixed(0)}`;

export async function runManyBottlesBench(sizes: readonly number[] = [10, 25, 50]): Promise<void> {
  console.log("Memory per bottle, MiB, the VM left out: rss counts the pages a bottle shares with the others (node's and the Go tools' code) in full, pss shares them out, uss is what the bottle alone holds. The 100 MiB target is judged on pss, the bottle's share of the host's memory.\n");
  console.log("N  | all agents ran | failures | memory rss / pss / uss | bottle ls | leftovers after stop");
  console.log("---|----------------|----------|------------------------|-----------|---------------------");
  for (const n of sizes) {
    const result = await runMany(n);
    if ("skipped" in result) {
      console.log(`skipped: many bottles: ${result.skipped}`);
      return;
    }
    const ran = result.allRanMs === null ? "not all" : `${(result.allRanMs / 1000).toFixed(1)} s`;
    const { rss, pss, uss } = result.memoryPerBottle;
    console.log(`${String(n).padEnd(3)}| ${ran.padEnd(15)}| ${String(result.failures.length).padEnd(9)}| ${`${MiB(rss)} / ${MiB(pss)} / ${MiB(uss)}`.padEnd(23)}| ${`${result.lsMs.toFixed(0)} ms`.padEnd(10)}| ${result.leftovers.length}`);
    const met = result.failures.length === 0 && result.leftovers.length === 0;
    console.log(`     target (every agent ran, 0 failures, 0 leftovers): ${met ? "met" : "MISSED"}; memory per bottle (pss) at most 100 MiB: ${pss <= 100 * 1024 ? "met" : "MISSED"}`);
    for (const [role, m] of Object.entries(result.memoryByRole)) console.log(`     ${role.padEnd(42)} ${`${MiB(m.rss)} / ${MiB(m.pss)} / ${MiB(m.uss)}`.padStart(16)}`);
    for (const line of [...result.failures, ...result.leftovers].slice(0, 10)) console.log(`     ${line.replace(/\n/g, "\n     ")}`);
  }
}
