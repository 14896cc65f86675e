// Proves the gvproxy contract fake's failure injection, which the launch
// suites use (the real gvproxy runs in the real-network suites): FAKE_FAIL
// fails it after its pid file and before any socket, FAKE_HANG leaves a
// marker beside its pid file (the jail can write nowhere else) and never
// listens until signalled.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { stringify } from "yaml";
import { fakesEnv, makeStateDir, runFake, startFake, waitForFile } from "./helpers/fakes.js";

interface World {
  state: string;
  run: string;
  socket: string;
  pidFile: string;
  logFile: string;
  /** Writes a config: the valid one bottle renders, changed by `edit`. */
  config(edit?: (c: Record<string, any>) => void): string;
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
}

async function withWorld(body: (w: World) => Promise<void>): Promise<void> {
  const root = makeStateDir("fakes-gv-");
  const state = join(root, "state");
  const run = join(root, "run");
  mkdirSync(state);
  mkdirSync(run);
  let n = 0;
  const w: World = {
    state,
    run,
    socket: join(run, "gvproxy.sock"),
    pidFile: join(run, "gvproxy.pid"),
    logFile: join(run, "gvproxy.log"),
    config(edit) {
      const config: Record<string, any> = {
        listen: [`unix://${join(run, "gvproxy.sock")}`],
        "log-file": join(run, "gvproxy.log"),
        "pid-file": join(run, "gvproxy.pid"),
        stack: {
          subnet: "192.168.77.0/24",
          gatewayIP: "192.168.77.1",
          deviceIP: "192.168.77.2",
          hostIP: "192.168.77.254",
          dns: [
            { name: "internal.", records: [{ name: "proxy", ip: "192.168.77.1" }] },
            { name: "", records: [] },
          ],
          nat: { "192.168.77.1": "127.0.0.1" },
          gatewayVirtualIPs: ["192.168.77.1"],
        },
      };
      edit?.(config);
      const path = join(root, `gvproxy-${++n}.yaml`);
      writeFileSync(path, stringify(config));
      return path;
    },
    env: (extra = {}) => fakesEnv(state, extra),
  };
  try {
    await body(w);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("FAKE_FAIL=gvproxy exits 1 after the pid file, before any socket", () =>
  withWorld(async (w) => {
    const r = await runFake("gvproxy", ["-config", w.config()], w.env({ FAKE_FAIL: "gvproxy" }));
    assert.is(r.code, 1);
    assert.ok(existsSync(w.pidFile));
    assert.not.ok(existsSync(w.socket));
    assert.match(readFileSync(w.logFile, "utf8"), /FAKE_FAIL=gvproxy/);
  }));

test("FAKE_HANG=gvproxy marks hang-gvproxy next to the pid file, never listens, SIGINT exits 130", () =>
  withWorld(async (w) => {
    const gv = startFake("gvproxy", ["-config", w.config()], w.env({ FAKE_HANG: "gvproxy" }));
    const marker = join(w.run, "hang-gvproxy");
    await waitForFile(marker);
    assert.is(readFileSync(marker, "utf8").trim(), String(gv.child.pid));
    assert.not.ok(existsSync(w.socket));
    assert.equal(readdirSync(w.state), []);
    gv.child.kill("SIGINT");
    assert.is((await gv.exit).code, 130);
    assert.not.ok(existsSync(w.socket));
  }));

test.run();
