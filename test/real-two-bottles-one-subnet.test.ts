// Two bottles on the same 192.168.N.0/24 run at once, each agent reaching
// its own pipelock: gvproxy's network exists only inside its own jail, so
// nothing is shared. Real gvproxy, gvforwarder, pipelock and jail; namespace
// machine. The hosts the agents ask for are served by a test host in a
// network namespace (the acceptance suite's world), whose names both
// launches resolve through a private /etc/hosts: a 200 comes from the host
// itself, so each answer says whose pipelock allowed it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { launchEnv } from "./acceptance/harness.js";
import { launchProbeBottle, type ProbeBottle } from "./acceptance/probe-bottle.js";
import { makeWorld } from "./acceptance/world.js";
import { fileHoldsBefore } from "./helpers/process.js";
import { realNetworkTools } from "./helpers/real-tools.js";

const OCTET = 123;
const tools = realNetworkTools();


async function waitForFile(path: string, bottle: ProbeBottle): Promise<void> {
  if (!(await fileHoldsBefore(path, "", bottle.exit))) throw new Error(`${bottle.name} exited (or hung) before ${path} appeared:\n${bottle.output()}`);
}


if ("missing" in tools) {
  skipSuite("real-two-bottles-one-subnet", tools.missing);
} else {
  test(`two bottles on 192.168.${OCTET}.0/24 at once: each agent reaches its own pipelock`, async () => {
    const root = mkdtempSync("/tmp/b2s-");
    const world = await makeWorld(root, ["a.test", "b.test"]);
    try {
      const env = launchEnv(root, tools);
      const a = launchProbeBottle({ root, world, name: "two-a", allow: ["a.test"], ask: ["a.test", "b.test"], env, gvforwarder: tools.gvforwarder, subnetOctet: OCTET });
      await waitForFile(a.result, a);
      // a is still running (it waits for its go file) while b launches on the same subnet.
      const b = launchProbeBottle({ root, world, name: "two-b", allow: ["b.test"], ask: ["a.test", "b.test"], env, gvforwarder: tools.gvforwarder, subnetOctet: OCTET });
      await waitForFile(b.result, b);
      const running = readFileSync(join(env.XDG_RUNTIME_DIR!, "bottle", "two-a", "supervisor.json"), "utf8");
      assert.ok(JSON.parse(running).pid > 0, "bottle a is still running");
      writeFileSync(a.go, "");
      writeFileSync(b.go, "");
      assert.is(await a.exit, 0, a.output());
      assert.is(await b.exit, 0, b.output());
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
