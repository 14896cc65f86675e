// Proves the gvproxy contract fake enforces gvproxy.md: the flag set, the
// -config YAML (strictly: unknown keys and bad types rejected), and the
// lifecycle: pid file first, "<path>" already exists, exit 0 and cleanup on SIGTERM
// leaving the socket behind. It must write nothing under FAKES_STATE.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { stringify } from "yaml";
import { type Exit, fakesEnv, makeStateDir, runFake, startFake, waitForFile } from "./helpers/fakes.js";

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

function assertFails(r: Exit, pattern: RegExp): void {
  assert.is(r.code, 1, `expected exit 1, got ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
}

test("a valid config: pid file, then a listening control socket, nothing under FAKES_STATE", () =>
  withWorld(async (w) => {
    const gv = startFake("gvproxy", ["-config", w.config()], w.env());
    try {
      await waitForFile(w.socket);
      assert.ok(statSync(w.socket).isSocket());
      assert.is(readFileSync(w.pidFile, "utf8"), String(gv.child.pid));
      // The socket file appears at bind(), a moment before listen(): the real
      // signal is a connection being accepted.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const client = connect(w.socket);
        const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => client.once("connect", () => resolve(null)).once("error", resolve));
        client.destroy();
        if (!error) break;
        if (error.code !== "ECONNREFUSED" || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.match(readFileSync(w.logFile, "utf8"), /listening unix:\/\//);
      assert.equal(readdirSync(w.state), [], "gvproxy runs in a read-only jail: no records in FAKES_STATE");
    } finally {
      gv.child.kill("SIGTERM");
      await gv.exit;
    }
  }));

test("SIGTERM: exit 0 with the socket and pid files removed, as the real gvproxy v0.8.9 does", () =>
  withWorld(async (w) => {
    const gv = startFake("gvproxy", ["-config", w.config()], w.env());
    await waitForFile(w.socket);
    gv.child.kill("SIGTERM");
    assert.is((await gv.exit).code, 0);
    assert.not.ok(existsSync(w.socket), "socket removed");
    assert.not.ok(existsSync(w.pidFile), "pid file removed");
    assert.match(readFileSync(w.logFile, "utf8"), "gvproxy exiting: signal caught");
  }));

test("a killed gvproxy leaves its socket behind, and the next start refuses it", () =>
  withWorld(async (w) => {
    const config = w.config();
    const gv = startFake("gvproxy", ["-config", config], w.env());
    await waitForFile(w.socket);
    gv.child.kill("SIGKILL");
    await gv.exit;
    assert.ok(statSync(w.socket).isSocket(), "stale socket left");
    const again = await runFake("gvproxy", ["-config", config], w.env());
    assert.is(again.code, 1);
    assert.ok(readFileSync(w.logFile, "utf8").includes(`\\"${w.socket}\\" already exists`));
    rmSync(w.socket);
    const clean = startFake("gvproxy", ["-config", config], w.env());
    await waitForFile(w.socket);
    clean.child.kill("SIGTERM");
    assert.is((await clean.exit).code, 0);
  }));

test("an existing file at a socket path is refused, untouched, after the pid file is written", () =>
  withWorld(async (w) => {
    writeFileSync(w.socket, "squatter");
    const r = await runFake("gvproxy", ["-config", w.config()], w.env());
    assert.is(r.code, 1);
    assert.match(readFileSync(w.logFile, "utf8"), /already exists/);
    assert.is(readFileSync(w.socket, "utf8"), "squatter");
    assert.ok(existsSync(w.pidFile));
  }));

test("unknown keys are rejected at every level, naming the key path", () =>
  withWorld(async (w) => {
    const cases: [(c: Record<string, any>) => void, RegExp][] = [
      [(c) => (c["listn"] = c["listen"]), /unknown key 'listn'/],
      [(c) => (c["stack"]["gatewayIp"] = "192.168.77.1"), /unknown key 'stack\.gatewayIp'/],
      [(c) => (c["stack"]["dns"][0]["recods"] = []), /unknown key 'stack\.dns\[0\]\.recods'/],
      [(c) => (c["stack"]["dns"][0]["records"][0]["type"] = "A"), /unknown key 'stack\.dns\[0\]\.records\[0\]\.type'/],
      [(c) => (c["interfaces"] = { qemuu: "unix:///x" }), /unknown key 'interfaces\.qemuu'/],
      [(c) => (c["forwards"] = [{ socket: "/a", dest: "/b", user: "u", identity: "/k", port: 1 }]), /unknown key 'forwards\[0\]\.port'/],
    ];
    const results = await Promise.all(cases.map(([edit]) => runFake("gvproxy", ["-config", w.config(edit)], w.env())));
    results.forEach((r, i) => assertFails(r, cases[i]?.[1] ?? /never/));
    assert.not.ok(existsSync(w.pidFile), "config errors come before the pid file");
    assert.not.ok(existsSync(w.socket));
  }));

test("types are validated: CIDR, IPv4s inside the subnet, zones, nat, virtual IPs, unix:// listen", () =>
  withWorld(async (w) => {
    const cases: [(c: Record<string, any>) => void, RegExp][] = [
      [(c) => (c["stack"]["subnet"] = "192.168.77.0"), /'stack\.subnet' must be an IPv4 CIDR/],
      [(c) => (c["stack"]["subnet"] = "192.168.77.9/24"), /'stack\.subnet'/],
      [(c) => (c["stack"]["gatewayIP"] = "192.168.78.1"), /'stack\.gatewayIP' 192\.168\.78\.1 is outside stack\.subnet/],
      [(c) => delete c["stack"]["hostIP"], /'stack\.hostIP' \(default\) 192\.168\.127\.254 is outside/],
      [(c) => (c["stack"]["deviceIP"] = "192.168.77.1"), /gatewayIP' and 'stack\.deviceIP' are both/],
      [(c) => (c["stack"]["deviceIP"] = "192.168.077.2"), /'stack\.deviceIP' must be an IPv4 address/],
      [(c) => (c["stack"]["nat"] = { "192.168.77.1": "localhost" }), /'stack\.nat\[192\.168\.77\.1\]' must be an IPv4/],
      [(c) => (c["stack"]["nat"] = { "192.168.77.5": "127.0.0.1" }), /not in gatewayVirtualIPs/],
      [(c) => (c["stack"]["gatewayVirtualIPs"] = "192.168.77.1"), /'stack\.gatewayVirtualIPs' must be a list/],
      [(c) => (c["stack"]["dns"][0]["records"][0]["ip"] = "proxy"), /'stack\.dns\[0\]\.records\[0\]\.ip'/],
      [(c) => (c["stack"]["dns"][0]["name"] = "internal"), /'stack\.dns\[0\]\.name' must end with '\.'/],
      [(c) => (c["stack"]["dns"][1]["name"] = "."), /matches no name/],
      [(c) => c["stack"]["dns"].reverse(), /catch-all zone '' but is not last/],
      [(c) => (c["stack"]["dns"] = { name: "internal." }), /'stack\.dns' must be a list/],
      [(c) => (c["listen"] = ["tcp://127.0.0.1:7777"]), /'listen\[0\]' must be a unix:\/\/\/absolute\/path URL/],
      [(c) => (c["stack"]["mtu"] = "1500"), /'stack\.mtu' must be an integer/],
      [(c) => (c["stack"]["forwards"] = { "127.0.0.1:2222": "10.0.0.2:22" }), /outside stack\.subnet/],
    ];
    const results = await Promise.all(cases.map(([edit]) => runFake("gvproxy", ["-config", w.config(edit)], w.env())));
    results.forEach((r, i) => assertFails(r, cases[i]?.[1] ?? /never/));
    assert.not.ok(existsSync(w.socket));
  }));

test("only gvproxy's flags are accepted", () =>
  withWorld(async (w) => {
    const config = w.config();
    assertFails(await runFake("gvproxy", ["-config", config, "-bogus"], w.env()), /flag provided but not defined: -bogus/);
    assertFails(await runFake("gvproxy", ["-config", config, "extra"], w.env()), /unexpected argument: extra/);
    assertFails(await runFake("gvproxy", ["-config"], w.env()), /flag needs an argument: -config/);
    assertFails(await runFake("gvproxy", ["-config", config, "-mtu", "big"], w.env()), /invalid value "big" for flag -mtu/);
    const version = await runFake("gvproxy", ["--version"], w.env());
    assert.is(version.code, 0);
    assert.match(version.stdout, /^gvproxy version /);
  }));

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
