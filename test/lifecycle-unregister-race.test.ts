// A launch that started nothing removes the registry entry it made, but
// only while it still holds the run dir: once it has let go, the next
// launch of the same bottle registers it, and that entry (of a bottle now
// running) must survive the first launch's last steps.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { waitForFile } from "./helpers/fakes.js";
import { binDirWith, describe, freshFakes, hangMarker, lsJson, makeProject, startBottle, waitForMarker } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("lc-unreg-race");

/** A request on the control socket whose connection this side never ends: the launcher's control server waits for it when it closes. */
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

test("a stopped launch that started nothing does not unregister the launch of the same bottle that followed it", async () => {
  freshFakes(project);
  // No smolvm (preflight fails), and a pipelock whose version probe waits until the test lets it answer,
  // so the control socket is up while nothing has started.
  const bin = binDirWith(["node", "dirname", "readlink", "gvproxy", "bwrap"]);
  const gate = tempDir("bgate-");
  const probing = join(gate, "probing");
  const release = join(gate, "release");
  execFileSync("mkfifo", [release]);
  writeFileSync(join(bin, "pipelock"), `#!/bin/sh\n: > ${probing}\nread line < ${release}\necho 1.4.0\n`, { mode: 0o755 });

  const first = startBottle(project, ["launch"], { path: bin });
  await waitForMarker(first, probing);
  // `bottle stop` from another terminal; its connection is held open (as a
  // slow client would), which keeps the first launch in its last steps.
  const held = holdControl(join(project.runDir, "control.sock"), "stop");
  writeFileSync(release, "go\n");
  assert.is(await held.reply, "stopped", "the first launch replied once torn down");

  const second = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  try {
    await waitForMarker(second, hangMarker(project, "smolvm:exec"));
    held.socket.destroy();
    const exit = await first.exit;
    // Stopped, not failed: there is no error to fix.
    assert.match(exit.stderr, `Nothing was started. ${project.name} is not registered; \`bottle launch\` again.\n`, describe(exit));
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
