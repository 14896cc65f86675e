// A bottle whose agent is the which-proxy probe, launched in the test world
// from its own project dir: it asks its proxy for each host in `ask`, writes
// the answers to ws/result.json, and stays up until ws/go exists. Used where
// several bottles must be up at once (two on one subnet, the many-bottles
// bench).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BOTTLE_MAIN } from "../helpers/lifecycle.js";
import { installAgentScripts } from "./harness.js";
import { inPrivateMounts, type World } from "./world.js";

export interface ProbeBottleOptions {
  root: string;
  world: World;
  name: string;
  allow: readonly string[];
  ask: readonly string[];
  env: NodeJS.ProcessEnv;
  gvforwarder: string;
  /** network.subnetOctet, when the test pins the subnet. */
  subnetOctet?: number;
}

export interface ProbeBottle {
  name: string;
  dir: string;
  pid: number;
  /** The probe's answers, {host: status}. */
  result: string;
  /** Written by the test to let the probe exit. */
  go: string;
  /** bottle launch's exit code. */
  exit: Promise<number | null>;
  /** Everything bottle launch printed so far (stdout and stderr). */
  output(): string;
}

export function launchProbeBottle(options: ProbeBottleOptions): ProbeBottle {
  const { root, world, name, env, gvforwarder } = options;
  const dir = join(root, name);
  mkdirSync(join(dir, "ws"), { recursive: true });
  installAgentScripts(join(dir, "ws"), ["which-proxy.js"]);
  const config = {
    name,
    image: "debian:bookworm-slim",
    agent: { command: ["node", "/workspace/.probe/which-proxy.js", ...options.ask], env: { RESULT_FILE: "/workspace/result.json", GO_FILE: "/workspace/go" } },
    workspace: { host: "./ws", guest: "/workspace" },
    egress: { allow: [...options.allow] },
    ...(options.subnetOctet === undefined ? {} : { network: { subnetOctet: options.subnetOctet } }),
    guest: { gvforwarder },
  };
  writeFileSync(join(dir, "bottle.config.ts"), `export default ${JSON.stringify(config)};\n`);
  const [command, ...args] = inPrivateMounts(world, [process.execPath, BOTTLE_MAIN, "launch"]);
  const child = spawn(command!, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { name, dir, pid: child.pid!, result: join(dir, "ws", "result.json"), go: join(dir, "ws", "go"), exit: new Promise((resolve) => child.on("exit", resolve)), output: () => output };
}
