// Two bottles on the same 192.168.N.0/24 run at once, each agent reaching
// its own pipelock: gvproxy's network exists only inside its own jail, so
// nothing is shared. Real gvproxy, gvforwarder, pipelock and jail; namespace
// machine. The hosts the agents ask for are served by a test host in a
// network namespace (the acceptance suite's world), whose names both
// launches resolve through a private /etc/hosts: a 200 comes from the host
// itself, so each answer says whose pipelock allowed it.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { installAgentScripts, launchEnv } from "./acceptance/harness.js";
import { inPrivateMounts, makeWorld, type World } from "./acceptance/world.js";
import { BOTTLE_MAIN } from "./helpers/lifecycle.js";
import { fileHoldsBefore } from "./helpers/process.js";
import { realNetworkTools } from "./helpers/real-tools.js";

const OCTET = 123;
const tools = realNetworkTools();

interface Bottle {
  name: string;
  dir: string;
  result: string;
  go: string;
  output: string;
  exit: Promise<number | null>;
}

async function waitForFile(path: string, bottle: Bottle): Promise<void> {
  if (!(await fileHoldsBefore(path, "", bottle.exit))) throw new Error(`${bottle.name} exited (or hung) before ${path} appeared:\n${bottle.output}`);
}

function launch(root: string, world: World, name: string, allow: string, ask: string[], env: NodeJS.ProcessEnv, gvforwarder: string): Bottle {
  const dir = join(root, name);
  mkdirSync(join(dir, "ws"), { recursive: true });
  installAgentScripts(join(dir, "ws"), ["which-proxy.js"]);
  const config = {
    name,
    image: "debian:bookworm-slim",
    agent: { command: ["node", "/workspace/.probe/which-proxy.js", ...ask], env: { RESULT_FILE: "/workspace/result.json", GO_FILE: "/workspace/go" } },
    workspace: { host: "./ws", guest: "/workspace" },
    egress: { allow: [allow] },
    network: { subnetOctet: OCTET },
    guest: { gvforwarder },
  };
  writeFileSync(join(dir, "bottle.config.ts"), `export default ${JSON.stringify(config)};\n`);
  const [command, ...args] = inPrivateMounts(world, [process.execPath, BOTTLE_MAIN, "launch"]);
  const child = spawn(command!, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  const bottle: Bottle = { name, dir, result: join(dir, "ws", "result.json"), go: join(dir, "ws", "go"), output: "", exit: new Promise((resolve) => child.on("exit", resolve)) };
  child.stdout.on("data", (chunk: Buffer) => (bottle.output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (bottle.output += chunk.toString()));
  return bottle;
}

if ("missing" in tools) {
  skipSuite("real-two-bottles-one-subnet", tools.missing);
} else {
  test(`two bottles on 192.168.${OCTET}.0/24 at once: each agent reaches its own pipelock`, async () => {
    const root = mkdtempSync("/tmp/b2s-");
    const world = await makeWorld(root, ["a.test", "b.test"]);
    try {
      const env = launchEnv(root, tools);
      const a = launch(root, world, "two-a", "a.test", ["a.test", "b.test"], env, tools.gvforwarder);
      await waitForFile(a.result, a);
      // a is still running (it waits for its go file) while b launches on the same subnet.
      const b = launch(root, world, "two-b", "b.test", ["a.test", "b.test"], env, tools.gvforwarder);
      await waitForFile(b.result, b);
      const running = readFileSync(join(env.XDG_RUNTIME_DIR!, "bottle", "two-a", "supervisor.json"), "utf8");
      assert.ok(JSON.parse(running).pid > 0, "bottle a is still running");
      writeFileSync(a.go, "");
      writeFileSync(b.go, "");
      assert.is(await a.exit, 0, a.output);
      assert.is(await b.exit, 0, b.output);
      // Each pipelock lets only its own host through (200 from the test host) and refuses the other (403).
      assert.equal(JSON.parse(readFileSync(a.result, "utf8")), { "a.test": 200, "b.test": 403 });
      assert.equal(JSON.parse(readFileSync(b.result, "utf8")), { "a.test": 403, "b.test": 200 });
      for (const bottle of [a, b]) assert.match(readFileSync(join(bottle.dir, ".bottle", bottle.name, "gvproxy.yaml"), "utf8"), `subnet: 192.168.${OCTET}.0/24`);
      assert.equal(world.entries().filter((e) => e.kind === "http").map((e) => (e.headers as Record<string, string>).host).sort(), ["a.test", "b.test"], "the test host saw one request for each bottle's own host, nothing else");
    } finally {
      world.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
  test.run();
}
