import { createServer, type Server } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  allocateLoopbackPort,
  allocatePorts,
  isPortFree,
} from "../src/backends/smolmachines/ports.js";

/** An allocator handing out the given ports in order, failing the test if it runs dry. */
function allocatorFrom(ports: number[]): () => Promise<number> {
  const queue = [...ports];
  return async () => {
    const next = queue.shift();
    if (next === undefined) throw new Error("test allocator ran out of ports");
    return next;
  };
}

const freeExcept =
  (...busy: number[]) =>
  async (port: number) =>
    !busy.includes(port);

test("a first run allocates one port per sidecar, in the caller's order", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock", "gitGate", "supervise"],
    previous: null,
    isFree: freeExcept(),
    allocate: allocatorFrom([5001, 5002, 5003]),
  });
  assert.equal(ports, { pipelock: 5001, gitGate: 5002, supervise: 5003 });
  assert.equal(Object.keys(ports), ["pipelock", "gitGate", "supervise"]);
});

test("previous ports that are still free are kept", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock", "gitGate"],
    previous: { pipelock: 4100, gitGate: 4200 },
    isFree: freeExcept(),
    allocate: allocatorFrom([]),
  });
  assert.equal(ports, { pipelock: 4100, gitGate: 4200 });
});

test("a previous port someone else now holds is replaced", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock", "gitGate"],
    previous: { pipelock: 4100, gitGate: 4200 },
    isFree: freeExcept(4100),
    allocate: allocatorFrom([5001]),
  });
  assert.equal(ports, { pipelock: 5001, gitGate: 4200 });
});

test("a busy previous port held by our own running sidecar is kept", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock"],
    previous: { pipelock: 4100 },
    heldByUs: [4100],
    isFree: freeExcept(4100),
    allocate: allocatorFrom([]),
  });
  assert.equal(ports, { pipelock: 4100 });
});

test("sidecars no longer configured are dropped and new ones get ports", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock", "supervise"],
    previous: { pipelock: 4100, gitGate: 4200 },
    isFree: freeExcept(),
    allocate: allocatorFrom([5003]),
  });
  assert.equal(ports, { pipelock: 4100, supervise: 5003 });
});

test("two sidecars never share a port, even if the previous record says so", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock", "gitGate"],
    previous: { pipelock: 4100, gitGate: 4100 },
    isFree: freeExcept(),
    allocate: allocatorFrom([5002]),
  });
  assert.equal(ports, { pipelock: 4100, gitGate: 5002 });
});

test("a fresh port never collides with a port another sidecar keeps or we hold", async () => {
  const ports = await allocatePorts({
    sidecars: ["pipelock", "gitGate"],
    previous: { pipelock: 4100, gitGate: 4200 },
    heldByUs: [4300],
    isFree: freeExcept(4100),
    // The allocator first offers gitGate's kept port, then a port we hold.
    allocate: allocatorFrom([4200, 4300, 5001]),
  });
  assert.equal(ports, { pipelock: 5001, gitGate: 4200 });
});

test("allocation gives up with an error when no unused port turns up", async () => {
  let calls = 0;
  try {
    await allocatePorts({
      sidecars: ["pipelock", "gitGate"],
      previous: { pipelock: 4100 },
      isFree: freeExcept(),
      allocate: async () => {
        calls++;
        return 4100;
      },
    });
    assert.unreachable("allocatePorts should have rejected");
  } catch (error) {
    assert.instance(error, Error);
    assert.match((error as Error).message, /could not allocate/);
    assert.ok(calls > 1);
  }
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port }, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

test("with the real helpers, a port another process holds is re-allocated", async () => {
  const holder = await listen(0);
  try {
    const held = portOf(holder);
    assert.is(await isPortFree(held), false);
    const ports = await allocatePorts({ sidecars: ["pipelock"], previous: { pipelock: held } });
    const fresh = ports.pipelock as number;
    assert.is.not(fresh, held);
    assert.ok(fresh > 0 && fresh < 65536);
    assert.is(await isPortFree(fresh), true);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});

test("allocateLoopbackPort returns a port that is free again once it returns", async () => {
  const port = await allocateLoopbackPort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
  assert.is(await isPortFree(port), true);
  const server = await listen(port);
  try {
    assert.is(await isPortFree(port), false);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("isPortFree says no to ports that cannot exist", async () => {
  assert.is(await isPortFree(0), false);
  assert.is(await isPortFree(70000), false);
});

test.run();
