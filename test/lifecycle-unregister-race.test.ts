// A launch that started nothing removes the registry entry it made, but
// only while it still holds the run dir: once it has let go, the next
// launch of the same bottle (`bottle launch` again at once, or after a
// `bottle stop`) registers it, and that entry, of a bottle now running,
// must survive the first launch's last steps.
import { execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, writeFileSync, writeSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir, waitForChange } from "./helpers/fakes.js";
import { binDirWith, describe, freshFakes, hangMarker, lsJson, makeProject, startBottle, waitForMarker } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("lc-unreg-race");

/** A request on the control socket whose connection this side never ends: the launcher's control server waits for it when it closes, after its teardown. */
function holdControl(path: string, request: string): { socket: Socket; reply: Promise<string> } {
  const socket = createConnection({ path, allowHalfOpen: true });
  socket.setEncoding("utf8");
  let received = "";
  const reply = new Promise<string>((resolve, reject) => {
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.includes("\n")) resolve(received.trim());
    });
    socket.on("error", reject);
  });
  socket.on("connect", () => socket.write(`${request}\n`));
  return { socket, reply };
}

test("a failed launch that started nothing does not unregister the launch of the same bottle that followed it", async () => {
  freshFakes(project);
  // No smolvm (preflight fails), and a pipelock whose version probe waits until the test lets it answer,
  // so the control socket is up while nothing has started.
  const bin = binDirWith(["node", "dirname", "readlink", "gvproxy", "bwrap"]);
  const gate = tempDir("bgate-");
  const probing = join(gate, "probing");
  const release = join(gate, "release");
  execFileSync("mkfifo", [release]);
  const probe = `if [ "$1" = version ]; then : > ${probing}; read line < ${release}; fi\nexec ${join(fakesBinDir, "pipelock")} "$@"\n`;
  writeFileSync(join(bin, "pipelock"), `#!/bin/sh\n${probe}`, { mode: 0o755 });

  const first = startBottle(project, ["launch"], { path: bin });
  await waitForMarker(first, probing);
  // A request on the control socket, answered at once; its connection is
  // then held open (as a slow client's would be), which keeps the first
  // launch in its last steps until the test lets go.
  const held = holdControl(join(project.runDir, "control.sock"), "reload nothing");
  assert.match(await held.reply, /^error /, "the first launch answered");
  // Non-blocking: a probe that gave up (it has 5 s) fails the test instead of hanging it.
  const gateFd = openSync(release, constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(gateFd, "go\n");
  closeSync(gateFd);
  // Torn down and the run dir released: the next launch can claim it.
  await waitForChange(join(project.runDir, "supervisor.json"), () => (existsSync(join(project.runDir, "supervisor.json")) ? undefined : true), 30_000, "the first launch to release the run dir").catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- first launch stdout\n${first.stdout()}\n--- stderr\n${first.stderr()}`);
  });

  const second = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  try {
    await waitForMarker(second, hangMarker(project, "smolvm:exec"));
    held.socket.destroy();
    const exit = await first.exit;
    assert.match(exit.stderr, `Nothing was started. ${project.name} is not registered`, describe(exit));
    const rows = await lsJson(project);
    assert.equal(
      rows.map((row) => [row.name, row.state]),
      [[project.name, "running"]],
      `the running bottle's registry entry is kept\n--- first launch\n${describe(exit)}`,
    );
  } finally {
    held.socket.destroy();
    second.child.kill("SIGTERM");
    await second.exit;
  }
});

test.run();
