// `bottle launch` on the real network path (real gvproxy in its bwrap jail,
// real gvforwarder and DHCP in the namespace machine) next to the same launch
// on the contract fakes, interleaved in one run: the time from the command to
// the agent's first request answered through its proxy, and, while the agent
// waits, the resident memory of each process bottle runs per bottle.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installAgentScripts, launchEnv } from "../test/acceptance/harness.js";
import { BOTTLE_MAIN } from "../test/helpers/lifecycle.js";
import { fileHoldsBefore } from "../test/helpers/process.js";
import { FAKES_BIN, realNetworkTools, type RealNetworkTools } from "../test/helpers/real-tools.js";
import { inPrivateMounts, makeWorld, type World } from "../test/acceptance/world.js";
import { launcherTreeMemory, type Memory } from "./process-tree.js";
import { median } from "./measure.js";

interface Sample {
  ms: number;
  memory: Record<string, Memory>;
  /** Real path only: the first launch's overhead, and a resume's of the same bottle once it stopped. */
  launch?: Overhead;
  resume?: Overhead;
}

/** From the command to the agent's exec, less smolvm's own create and start; and how much of it was smolvm's other calls. */
interface Overhead {
  ms: number;
  /** smolvm's calls other than create and start before the exec (status, --version): the stand-in's are each a Node process. */
  otherSmolvmMs: number;
}

/** Issue 18: launch overhead at most 300 ms. */
const OVERHEAD_TARGET_MS = 300;

/**
 * Puts a timing wrapper in place of smolvm on the launch's PATH: each call's
 * verb (`--version` for the version probe) and its start and end (ns since
 * the epoch) go to `log`; exec's start is written before it runs, as exec
 * runs as long as the agent. Returns the real smolvm, for a wrapper with
 * another log.
 */
function timeSmolvmCalls(binDir: string, log: string, real = realpathSync(join(binDir, "smolvm"))): string {
  const smolvm = join(binDir, "smolvm");
  rmSync(smolvm);
  writeFileSync(
    smolvm,
    `#!/bin/sh\nstart=$(date +%s%N)\nverb=\${2:-$1}\nif [ "$verb" = exec ]; then echo "exec,$start,$start" >> '${log}'; fi\n'${real}' "$@"\ncode=$?\n[ "$verb" = exec ] || echo "$verb,$start,$(date +%s%N)" >> '${log}'\nexit $code\n`,
    { mode: 0o755 },
  );
  return real;
}

/** From `launchedAtNs` to exec's start, less the time smolvm spent in create and start. */
function launchOverhead(log: string, launchedAtNs: bigint): Overhead | undefined {
  const calls = readFileSync(log, "utf8").trim().split("\n").map((line) => line.split(",")).map(([verb, start, end]) => ({ verb: verb!, start: BigInt(start!), end: BigInt(end!) }));
  const exec = calls.find((call) => call.verb === "exec");
  if (!exec) return undefined;
  const spent = (verbs: (verb: string) => boolean): bigint => calls.filter((call) => verbs(call.verb) && call.end <= exec.start).reduce((total, call) => total + (call.end - call.start), 0n);
  const machine = spent((verb) => verb === "create" || verb === "start");
  const other = spent((verb) => verb !== "create" && verb !== "start" && verb !== "exec");
  return { ms: Number(exec.start - launchedAtNs - machine) / 1e6, otherSmolvmMs: Number(other) / 1e6 };
}

/** The host the agent asks for: served in the test world's network namespace, never the internet. */
const HOST = "probe.test";

async function launchOnce(root: string, world: World, index: number, real: boolean, tools: RealNetworkTools): Promise<Sample> {
  const dir = join(root, `run${index}`);
  mkdirSync(join(dir, "ws"), { recursive: true });
  installAgentScripts(join(dir, "ws"), ["which-proxy.js"]);
  const name = `bench${index}`;
  const config = {
    name,
    image: "debian:bookworm-slim",
    agent: { command: real ? ["node", "/workspace/.probe/which-proxy.js", HOST] : ["sh", "-c", "true"], env: { RESULT_FILE: "/workspace/result.json", GO_FILE: "/workspace/go" } },
    workspace: { host: "./ws", guest: "/workspace" },
    egress: { allow: [HOST] },
    guest: { gvforwarder: tools.gvforwarder },
  };
  writeFileSync(join(dir, "bottle.config.ts"), `export default ${JSON.stringify(config)};\n`);
  mkdirSync(join(root, `home${index}`));
  const env = launchEnv(join(root, `home${index}`), tools);
  if (!real) env.PATH = `${FAKES_BIN}:${env.PATH}`; // the contract fakes' smolvm and gvproxy
  const smolvmLog = join(root, `smolvm-calls${index}.log`);
  const realSmolvm = real ? timeSmolvmCalls(join(root, `home${index}`, "bin"), smolvmLog) : undefined;
  const started = performance.now();
  const first = await runUntilAgent(world, dir, env, "launch", real);
  const ms = performance.now() - started;
  if (!first.reached) throw new Error(`launch ${index} (${real ? "real" : "fakes"}) never reached its agent`);
  const memory = real ? launcherTreeMemory(first.pid) : {};
  writeFileSync(join(dir, "ws", "go"), "");
  await first.exited;
  if (!real) return { ms, memory };
  const launch = launchOverhead(smolvmLog, first.launchedAtNs);
  // The same bottle again, stopped: its build is fresh and preflight's answers are kept.
  const resumeLog = join(root, `smolvm-calls${index}-resume.log`);
  timeSmolvmCalls(join(root, `home${index}`, "bin"), resumeLog, realSmolvm);
  for (const file of ["result.json", "go"]) rmSync(join(dir, "ws", file), { force: true });
  const again = await runUntilAgent(world, dir, env, "resume", real);
  if (!again.reached) throw new Error(`resume ${index} never reached its agent`);
  writeFileSync(join(dir, "ws", "go"), "");
  await again.exited;
  const resume = launchOverhead(resumeLog, again.launchedAtNs);
  return { ms, memory, ...(launch ? { launch } : {}), ...(resume ? { resume } : {}) };
}

/** Runs `bottle COMMAND` in `dir` until its agent has answered (real) or smolvm's exec was called (fakes). */
async function runUntilAgent(world: World, dir: string, env: NodeJS.ProcessEnv, command: "launch" | "resume", real: boolean): Promise<{ reached: boolean; pid: number; launchedAtNs: bigint; exited: Promise<unknown> }> {
  const launchedAtNs = BigInt(Date.now()) * 1_000_000n; // the wrapper's clock: `date +%s%N`
  const [program, ...args] = inPrivateMounts(world, [process.execPath, BOTTLE_MAIN, command]);
  const child = spawn(program!, args, { cwd: dir, env, stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  // The fakes run no agent: smolvm's `exec` call is the agent's moment.
  const reached = real ? await fileHoldsBefore(join(dir, "ws", "result.json"), HOST, exited) : await fileHoldsBefore(join(env.FAKES_STATE!, "smolvm", "calls.jsonl"), '"exec"', exited);
  return { reached, pid: child.pid!, launchedAtNs, exited };
}

export async function runRealLaunchBench(runs = 5): Promise<void> {
  const tools = realNetworkTools();
  if ("missing" in tools) {
    console.log(`skipped: real launch: ${tools.missing}`);
    return;
  }
  const root = mkdtempSync("/tmp/bbl-");
  const world = await makeWorld(root, [HOST]);
  try {
    const real: Sample[] = [];
    const fake: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      real.push(await launchOnce(root, world, i * 2, true, tools));
      fake.push(await launchOnce(root, world, i * 2 + 1, false, tools));
    }
    const realMs = median(real.map((s) => s.ms));
    const fakeMs = median(fake.map((s) => s.ms));
    console.log(`launch → agent's first proxied answer, real network path: ${realMs.toFixed(0)} ms (median of ${runs}; ${real.map((s) => s.ms.toFixed(0)).join(", ")})`);
    console.log(`launch → agent's exec, contract fakes:                 ${fakeMs.toFixed(0)} ms (median of ${runs})`);
    console.log(`ratio real/fakes: ${(realMs / fakeMs).toFixed(2)}x  (pipelock: ${tools.pipelock})`);
    for (const [what, pick] of [
      ["launch overhead, real network path (command → agent's exec, less smolvm's own create and start), a first launch", (s: Sample) => s.launch],
      ["the same, `bottle resume` of that bottle once stopped (its build fresh, preflight's answers kept)", (s: Sample) => s.resume],
    ] as const) {
      const overheads = real.flatMap((s) => (pick(s) === undefined ? [] : [pick(s)!]));
      const overhead = median(overheads.map((o) => o.ms));
      const smolvm = median(overheads.map((o) => o.otherSmolvmMs));
      // Each launch's own rest, then their median (not one median less the other).
      const rest = median(overheads.map((o) => o.ms - o.otherSmolvmMs));
      console.log(
        `${what}: ${overhead.toFixed(0)} ms (median of ${overheads.length}; ${overheads.map((o) => o.ms.toFixed(0)).join(", ")}); target at most ${OVERHEAD_TARGET_MS} ms: ${overhead <= OVERHEAD_TARGET_MS ? "met" : "MISSED"}`,
      );
      console.log(`  of which smolvm's other calls (status, --version; the stand-in's, a Node process each): ${smolvm.toFixed(0)} ms; the rest, bottle's own and its sidecars': ${rest.toFixed(0)} ms (medians of each)`);
    }
    console.log("\nmemory per bottle while the agent runs (median KiB; rss counts shared pages in full, pss shares them out, uss is this bottle's alone):");
    console.log(`  ${"".padEnd(44)} ${"rss".padStart(8)} ${"pss".padStart(8)} ${"uss".padStart(8)}`);
    const roles = [...new Set(real.flatMap((s) => Object.keys(s.memory)))].sort();
    const total: Memory = { rss: 0, pss: 0, uss: 0 };
    for (const name of roles) {
      const row = { rss: 0, pss: 0, uss: 0 };
      for (const kind of ["rss", "pss", "uss"] as const) {
        row[kind] = median(real.map((s) => s.memory[name]?.[kind] ?? 0));
        total[kind] += row[kind];
      }
      console.log(`  ${name.padEnd(44)} ${String(row.rss).padStart(8)} ${String(row.pss).padStart(8)} ${String(row.uss).padStart(8)}`);
    }
    console.log(`  ${"total".padEnd(44)} ${String(total.rss).padStart(8)} ${String(total.pss).padStart(8)} ${String(total.uss).padStart(8)}`);
  } finally {
    world.close();
    rmSync(root, { recursive: true, force: true });
  }
}
