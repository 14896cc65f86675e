// Proves what keeps two launches apart, and what need not: two bottles on
// the same subnet run at once (each gvproxy's network is private to its jail;
// test/real-two-bottles-one-subnet.test.ts shows it on the real network
// path), the same bottle cannot be launched twice (the second names the
// pid), and a pipelock port lost between a build and a launch is
// re-allocated, re-rendering the Smolfile with the new port (and one taken
// after allocation, before pipelock binds it, is re-allocated and retried).
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPipelockEvents, readSmolvmCalls } from "./helpers/fakes.js";
import {
  assertNoLeftovers,
  baseConfig,
  describe,
  freshFakes,
  hangMarker,
  liveProcesses,
  makeHome,
  makeProject,
  runBottle,
  startBottle,
  waitForMarker,
} from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const OCTET = 77;
const home = makeHome();
const withOctet = (name: string): Record<string, unknown> => ({ ...baseConfig(name), network: { subnetOctet: OCTET } });
const first = makeProject("lc-col-a", { home, config: withOctet("lc-col-a") });
const second = makeProject("lc-col-b", { home, config: withOctet("lc-col-b") });

test("while one bottle runs, a second bottle on the same subnet launches too; the same bottle cannot launch twice", async () => {
  freshFakes(first);
  freshFakes(second);
  const running = startBottle(first, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(running, hangMarker(first, "smolvm:exec"));

  const other = await runBottle(second, ["launch"]);
  assert.is(other.code, 0, describe(other));
  assert.not.match(other.stderr, "in use by the running bottle");
  assert.ok(readSmolvmCalls(second.fakes).length > 0, "the second bottle started its machine");
  assertNoLeftovers(second, "stopped", "second bottle");

  // The same bottle again (its own FAKES_STATE, so anything it started would show).
  const again = await runBottle(first, ["launch"], { fakes: tempDir("bf-") });
  assert.is(again.code, 1, describe(again));
  assert.match(again.stderr, `bottle \`${first.name}\` is already running (pid ${running.pid}`, describe(again));
  assert.ok(liveProcesses(first.fakes, [first.runDir]).some((p) => p.pid === running.pid), "the first launch is untouched");

  const stop = await runBottle(first, ["stop", first.name]);
  assert.is(stop.code, 0, describe(stop));
  const exit = await running.exit;
  assert.is(exit.code, 0, describe(exit));
  assertNoLeftovers(first, "stopped", "first bottle");
});

test("a second launch of a bottle still starting (holding its stage lock) fails at once naming the pid, not after the lock wait", async () => {
  freshFakes(first);
  const running = startBottle(first, ["launch"], { env: { FAKE_HANG: "smolvm:start" } });
  await waitForMarker(running, hangMarker(first, "smolvm:start"));
  const again = await runBottle(first, ["launch"], { fakes: tempDir("bf-") });
  assert.is(again.code, 1, describe(again));
  assert.match(again.stderr, `bottle \`${first.name}\` is already running (pid ${running.pid}`, describe(again));
  running.child.kill("SIGINT");
  const exit = await running.exit;
  assert.is(exit.code, 130, describe(exit));
  assertNoLeftovers(first, "absent");
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => resolve(server));
  });
}

function proxyPort(smolfile: string): number {
  const ports = [...smolfile.matchAll(/(?:HTTPS?_PROXY|https?_proxy)=http:\/\/proxy\.internal:(\d+)/g)].map((m) => Number(m[1]));
  assert.is(ports.length, 4, smolfile);
  assert.is(new Set(ports).size, 1, smolfile);
  return ports[0]!;
}

test("a pipelock port taken between build and launch: the launch picks a new port and re-renders smolfile.toml with it", async () => {
  const project = makeProject("lc-port");
  const build = await runBottle(project, ["build"]);
  assert.is(build.code, 0, describe(build));
  const state = JSON.parse(readFileSync(join(project.stageDir, "state.json"), "utf8")) as { tasks: Record<string, { result: Record<string, number> }> };
  const old = state.tasks.ports!.result.pipelock!;
  assert.is(proxyPort(readFileSync(join(project.stageDir, "smolfile.toml"), "utf8")), old);

  const squatter = await listen(old);
  try {
    const run = await runBottle(project, ["launch"]);
    assert.is(run.code, 0, describe(run));
    const now = proxyPort(readFileSync(join(project.stageDir, "smolfile.toml"), "utf8"));
    assert.is.not(now, old);
    assert.match(run.stdout, /^ran\s+smolfile\.toml \(/m, "the Smolfile was re-rendered");
    const started = readPipelockEvents(project.fakes).filter((e) => e.event === "started");
    assert.equal(started.map((e) => e.listen), [`127.0.0.1:${now}`]);
    assertNoLeftovers(project, "stopped");
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
});

test("a pipelock port taken after the launch allocated it (before pipelock binds it) is re-allocated and the launch retried", async () => {
  const project = makeProject("lc-race");
  // The first pipelock hangs without binding its port, so the test takes the
  // port without racing it; the retried pipelock starts normally.
  const run = startBottle(project, ["launch"], { env: { FAKE_HANG: "pipelock@once" } });
  await waitForMarker(run, hangMarker(project, "pipelock@once"));
  const record = join(project.runDir, "supervisor.json");
  const taken = (JSON.parse(readFileSync(record, "utf8")) as { ports: Record<string, number> }).ports.pipelock!;
  const squatter = await listen(taken);
  try {
    const exit = await run.exit;
    assert.is(exit.code, 0, describe(exit));
    assert.match(exit.stderr, `127.0.0.1:${taken}, allocated to pipelock, was taken by another process; re-allocating ports and trying again (attempt 2 of 3)`, describe(exit));
    const now = proxyPort(readFileSync(join(project.stageDir, "smolfile.toml"), "utf8"));
    assert.is.not(now, taken);
    const started = readPipelockEvents(project.fakes).filter((e) => e.event === "started");
    assert.equal(started.map((e) => e.listen), [`127.0.0.1:${now}`]);
    assertNoLeftovers(project, "stopped");
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
});

test.run();
