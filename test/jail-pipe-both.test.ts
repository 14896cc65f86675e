// pipeBoth, the join under both relays: an error on one side ends both at
// once (and never goes unhandled: that would end the bottle process), and a
// side that closes without ending ends its peer instead of leaving it
// half-open forever.
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pipeBoth } from "../src/backends/smolmachines/jail/pipe-both.js";

/** Two connected sockets over loopback TCP, both allowHalfOpen: [ours, the far end]. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer({ allowHalfOpen: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const ours = createConnection({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(ours, "connect");
  const [far] = await accepted;
  server.close();
  return [ours, far];
}

interface Joined {
  a: Socket;
  b: Socket;
  aFar: Socket;
  bFar: Socket;
}

/** a and b joined by pipeBoth, each with its far end; every socket destroyed after `body`, pass or fail. */
async function withJoined(body: (sockets: Joined) => Promise<void>): Promise<void> {
  const [a, aFar] = await socketPair();
  const [b, bFar] = await socketPair();
  pipeBoth(a, b);
  try {
    await body({ a, b, aFar, bFar });
  } finally {
    for (const socket of [a, b, aFar, bFar]) socket.destroy();
  }
}

for (const side of ["a", "b"] as const) {
  const other = side === "a" ? "b" : "a";

  test(`an error on ${side} destroys both sides at once, with no error left unhandled`, () =>
    withJoined(async (sockets) => {
      const failing = sockets[side];
      // No error listener of the test's own (events.once would add one): pipeBoth's must be the one that handles it.
      const closed = new Promise((resolve) => failing.once("close", resolve));
      failing.destroy(new Error("connection reset"));
      await closed;
      assert.ok(sockets[other].destroyed, "destroyed, not merely ended after a flush");
    }));

  test(`${side} closing without ending ends its peer, whose far end then sees the end`, () =>
    withJoined(async (sockets) => {
      const closed = once(sockets[side], "close");
      sockets[side].destroy();
      await closed;
      assert.ok(sockets[other].writableEnded, "the peer was ended");
      await once(sockets[other === "a" ? "aFar" : "bFar"], "end");
    }));
}

test.run();
