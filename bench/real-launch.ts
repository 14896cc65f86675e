// `bottle launch` on the real network path (real gvproxy in its bwrap jail,
// real gvforwarder and DHCP in the namespace machine) next to the same launch
// on the contract fakes, interleaved in one run: the time from the command to
// the agent's first request answered through its proxy, and, while the agent
// waits, the resident memory of each process bottle runs per bottle.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
  const started = performance.now();
  const [command, ...args] = inPrivateMounts(world, [process.execPath, BOTTLE_MAIN, "launch"]);
  const child = spawn(command!, args, { cwd: dir, env, stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  // The fakes run no agent: smolvm's `exec` call is the agent's moment.
  const reached = real ? await fileHoldsBefore(join(dir, "ws", "result.json"), HOST, exited) : await fileHoldsBefore(join(env.FAKES_STATE!, "smolvm", "calls.jsonl"), '"exec"', exited);
  const ms = performance.now() - started;
  if (!reached) throw new Error(`launch ${index} (${real ? "real" : "fakes"}) never reached its agent`);
  const memory = real ? launcherTreeMemory(child.pid!) : {};
  writeFileSync(join(dir, "ws", "go"), "");
  await exited;
  return { ms, memory };
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
