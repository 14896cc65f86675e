// Proves the configured sidecars (git-gate here, played by the fake
// sidecar) start beside pipelock and fail the `sidecars` step properly: a
// sidecar that exits or never listens fails it with its last log lines and
// is stopped with pipelock; a secret whose host variable is unset fails it
// before anything starts. Each scenario ends with the leftovers check.
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPipelockEvents } from "./helpers/fakes.js";
import {
  assertNoLeftovers,
  baseConfig,
  describe,
  freshFakes,
  hangMarker,
  makeProject,
  runBottle,
  SECRET_VAR,
  startBottle,
  waitForMarker,
  writeProjectConfig,
} from "./helpers/lifecycle.js";

function cleanedList(stderr: string): string[] {
  const line = /^cleaned up, in reverse order: (.*)$/m.exec(stderr)?.[1];
  return line ? line.split("; ") : [];
}

// A bottle with a git-gate sidecar (the fake sidecar) besides pipelock. Its
// ready timeout is generous: a Node sidecar on a loaded 2-core machine can
// take well over a second to listen. Only the never-listens test shortens it.
const gatedConfig = (readyTimeoutMs: number) => ({
  ...baseConfig("lc-fail-gg"),
  gitGate: { command: ["fake-sidecar", "--port", "{port}", "--name", "git-gate"], env: { GG_TOKEN: { fromEnv: SECRET_VAR } }, ready: { timeoutMs: readyTimeoutMs } },
});
const gated = makeProject("lc-fail-gg", { config: gatedConfig(15_000) });

function readLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(text.trim()));
  });
}

test("git-gate runs beside pipelock on its own port with its own relay, and is stopped (before pipelock) with its log kept", async () => {
  freshFakes(gated);
  const launcher = startBottle(gated, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
  await waitForMarker(launcher, hangMarker(gated, "smolvm:exec"));
  const ls = await runBottle(gated, ["ls", "--json"]);
  const [row] = JSON.parse(ls.stdout) as { ports: Record<string, number> }[];
  assert.equal(Object.keys(row?.ports ?? {}), ["pipelock", "gitGate"], ls.stdout);
  assert.is(await readLine(row!.ports.gitGate!), `git-gate ${row!.ports.gitGate}`);
  const stop = await runBottle(gated, ["stop", gated.name]);
  assert.is(stop.code, 0, describe(stop));
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assert.equal(cleanedList(exit.stderr).map((item) => item.replace(/\d+/g, "N")), [
    `stopped machine ${gated.machine}`,
    "stopped gvproxy and its jail (pid N)",
    "closed the sidecar relays (N)",
    "stopped gitGate (pid N)",
    "stopped pipelock (pid N)",
  ]);
  assert.match(exit.stderr, "closed the sidecar relays (2)");
  assert.ok(existsSync(join(gated.stageDir, "logs", "git-gate.log")), "the gate's log is kept, under the name the built-in gate uses");
  assertNoLeftovers(gated, "stopped");
  // rm deletes only names bottle knows: the log must be one of them, or the stage dir stays.
  const rm = await runBottle(gated, ["rm", gated.name, "--yes"]);
  assert.is(rm.code, 0, describe(rm));
  assert.not.ok(existsSync(gated.stageDir), `rm kept ${gated.stageDir}: ${rm.stdout}`);
});

for (const role of ["pipelock", "jail"] as const) {
  test(`${role === "jail" ? "gvproxy's jail" : role} dying while the agent runs stops the bottle: everything torn down, exit 1, the cause named`, async () => {
    freshFakes(gated);
    const launcher = startBottle(gated, ["launch"], { env: { FAKE_HANG: "smolvm:exec" } });
    await waitForMarker(launcher, hangMarker(gated, "smolvm:exec"));
    const record = JSON.parse(readFileSync(join(gated.runDir, "supervisor.json"), "utf8")) as { children: Record<string, { pid: number }> };
    process.kill(record.children[role]!.pid, "SIGKILL");
    const exit = await launcher.exit;
    assert.is(exit.code, 1, describe(exit));
    const what = role === "jail" ? "gvproxy \\(in its jail\\)" : role;
    assert.match(exit.stderr, new RegExp(`${what} exited unexpectedly \\(killed by SIGKILL\\)`), describe(exit));
    assert.match(exit.stderr, new RegExp(`${gated.name} was stopped because ${what} exited unexpectedly`));
    assert.match(exit.stderr, `stopped machine ${gated.machine}`);
    assert.not.match(exit.stderr, "could not undo", describe(exit));
    assertNoLeftovers(gated, "stopped");
  });
}

test("FAKE_FAIL=sidecar:git-gate: fails at `sidecars` with the sidecar's last log lines, stopping it and pipelock", async () => {
  freshFakes(gated);
  const run = await runBottle(gated, ["launch"], { env: { FAKE_FAIL: "sidecar:git-gate" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, "launch failed at `sidecars` (its error is above).", describe(run));
  assert.match(run.stdout, /FAILED\s+sidecars: gitGate exited \(exit code 1\) before 127\.0\.0\.1:\d+ accepted connections/, describe(run));
  assert.match(run.stdout, /last lines of .*git-gate\.log:\n\s+\| fake-sidecar: git-gate: cannot start: injected by FAKE_FAIL=sidecar:git-gate/);
  assert.equal(cleanedList(run.stderr).map((item) => item.replace(/\d+/g, "N")), ["stopped gitGate (pid N)", "stopped pipelock (pid N)"]);
  assertNoLeftovers(gated, "absent");
});

test("a sidecar that never listens fails `sidecars` after its ready timeout and is stopped", async () => {
  freshFakes(gated);
  writeProjectConfig(gated, gatedConfig(500));
  const run = await runBottle(gated, ["launch"], { env: { FAKE_HANG: "sidecar:git-gate" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stderr, "launch failed at `sidecars` (its error is above).", describe(run));
  assert.match(run.stdout, /FAILED\s+sidecars: gitGate did not accept connections on 127\.0\.0\.1:\d+ within 500 ms/, describe(run));
  assert.equal(cleanedList(run.stderr).map((item) => item.replace(/\d+/g, "N")), ["stopped gitGate (pid N)", "stopped pipelock (pid N)"]);
  assertNoLeftovers(gated, "absent");
});

test("a sidecar secret whose host variable is unset fails `sidecars` before any sidecar starts", async () => {
  freshFakes(gated);
  const config = { ...baseConfig("lc-fail-gg"), agent: { command: ["true"] }, gitGate: { command: ["fake-sidecar", "--port", "{port}"], env: { GG_TOKEN: { fromEnv: "LC_UNSET_VARIABLE" } } } };
  writeProjectConfig(gated, config);
  const run = await runBottle(gated, ["launch"]);
  assert.is(run.code, 1, describe(run));
  assert.match(run.stdout, "gitGate.env.GG_TOKEN: the host variable LC_UNSET_VARIABLE is not set", describe(run));
  assert.equal(readPipelockEvents(gated.fakes), [], "pipelock started");
  assert.not.match(run.stderr, "cleaned up");
  assertNoLeftovers(gated, "absent");
});

test.run();
