// Proves fake-sidecar's failure injection, which the sidecar launch suites
// use: FAKE_FAIL / FAKE_HANG entries `sidecar:<NAME>` stop only the sidecar
// they name; another answers `sidecar <port>` and exits 0 on SIGTERM.
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesEnv, freePort, makeStateDir, runFake, startFake, waitForFile, waitForPort } from "./helpers/fakes.js";

function readAll(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

test("FAKE_FAIL and FAKE_HANG apply to the named sidecar only", async () => {
  const state = makeStateDir("fakes-sc-");
  const port = await freePort();
  const failed = await runFake("fake-sidecar", ["--port", String(port), "--name", "supervise"], fakesEnv(state, { FAKE_FAIL: "sidecar:supervise" }));
  assert.is(failed.code, 1);
  assert.match(failed.stderr, /FAKE_FAIL=sidecar:supervise/);

  const hung = startFake("fake-sidecar", ["--port", String(port), "--name", "supervise"], fakesEnv(state, { FAKE_HANG: "sidecar:supervise" }));
  const marker = join(state, "hang", "sidecar-supervise");
  await waitForFile(marker);
  assert.is(readFileSync(marker, "utf8").trim(), String(hung.child.pid));
  hung.child.kill("SIGTERM");
  assert.is((await hung.exit).code, 143);

  const other = startFake("fake-sidecar", ["--port", String(port)], fakesEnv(state, { FAKE_FAIL: "sidecar:supervise" }));
  await waitForPort(port);
  assert.is(await readAll(port), `sidecar ${port}\n`);
  other.child.kill("SIGTERM");
  assert.is((await other.exit).code, 0);
  rmSync(state, { recursive: true, force: true });
});

test.run();
