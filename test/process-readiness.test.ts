// The readiness waits wait on the real signal: a unix socket counts as ready
// when it accepts a connection, not when its file appears (bind() makes the
// file a moment before listen(), and a dead process leaves the file behind).
import { spawn } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { waitForPath, waitForSocket } from "../src/backends/smolmachines/process/readiness.js";
import { isBottleError } from "../src/lib/errors.js";
import { tempDir } from "./helpers/tmp.js";

/** A socket file nothing listens on: what a SIGKILLed server leaves. */
async function staleSocket(path: string): Promise<void> {
  const script = `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
  const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  assert.ok(statSync(path).isSocket(), "the stale socket is there");
}

test("a socket file nothing listens on is not ready: waitForSocket times out where waitForPath would not", async () => {
  const path = join(tempDir("readiness-"), "s.sock");
  await staleSocket(path);
  await waitForPath(path, { timeoutMs: 200, what: "control" }); // the file alone satisfies the weaker wait
  const error = await waitForSocket(path, { timeoutMs: 300, what: "the server" }).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  assert.ok(isBottleError(error, "not-ready"), String(error));
  assert.match((error as Error).message, `the server did not accept connections on ${path} within 300 ms`);
});

test("control: the same path, once a server listens there, is ready", async () => {
  const path = join(tempDir("readiness-"), "s.sock");
  await staleSocket(path);
  const server = createServer((socket) => socket.destroy());
  rmSync(path);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    await waitForSocket(path, { timeoutMs: 10_000, what: "the server" });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a server that exits before listening is reported with its exit", async () => {
  const path = join(tempDir("readiness-"), "s.sock");
  await staleSocket(path);
  const error = await waitForSocket(path, { timeoutMs: 10_000, what: "the server", exited: Promise.resolve({ code: 3, signal: null }) }).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  assert.match((error as Error).message, `the server exited (exit code 3) before ${path} accepted connections`);
});

test.run();
