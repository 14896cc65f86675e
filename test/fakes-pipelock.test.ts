// Proves the pipelock contract fake (for failure injection; the real-network
// suites run the real pipelock) answers as the real one does: strict config
// keys, loopback-only --listen, pipelock's refusal texts and /health, its
// JSON log lines with the config's hash, and reloads on SIGHUP or a write of
// the config file that swap a valid config in and keep the old one otherwise.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { stringify } from "yaml";
import {
  type Exit,
  fakesEnv,
  freePort,
  makeStateDir,
  readPipelockEvents,
  runFake,
  type RunningFake,
  startFake,
  waitForFile,
  waitForPipelockEvent,
  waitForPort,
  askProxy,
} from "./helpers/fakes.js";

type Config = Record<string, any>;

function baseConfig(): Config {
  return {
    version: 1,
    mode: "strict",
    enforce: true,
    forward_proxy: { enabled: true },
    dlp: { scan_env: false, include_defaults: true },
    api_allowlist: ["api.example.com", "*.allowed.test"],
  };
}

interface World {
  state: string;
  configPath: string;
  port: number;
  write(config: Config | string): void;
  start(extraArgs?: string[], extraEnv?: Record<string, string>): Promise<RunningFake>;
  run(args: string[], extraEnv?: Record<string, string>): Promise<Exit>;
}

async function withWorld(body: (w: World) => Promise<void>): Promise<void> {
  const root = makeStateDir("fakes-pl-");
  const configPath = join(root, "pipelock.yaml");
  const state = join(root, "state");
  const port = await freePort();
  const running: RunningFake[] = [];
  const w: World = {
    state,
    configPath,
    port,
    write: (config) => writeFileSync(configPath, typeof config === "string" ? config : stringify(config)),
    async start(extraArgs = [], extraEnv = {}) {
      const args = ["run", "--config", configPath, "--listen", `127.0.0.1:${port}`, ...extraArgs];
      const fake = startFake("pipelock", args, fakesEnv(state, extraEnv));
      running.push(fake);
      return fake;
    },
    run: (args, extraEnv = {}) => runFake("pipelock", args, fakesEnv(state, extraEnv)),
  };
  w.write(baseConfig());
  try {
    await body(w);
  } finally {
    for (const fake of running) fake.child.kill("SIGTERM");
    await Promise.all(running.map((f) => f.exit));
    rmSync(root, { recursive: true, force: true });
  }
}

const ask = askProxy;
const connectTo = (port: number, host: string) => ask(port, `CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);

async function startListening(w: World, args: string[] = []): Promise<RunningFake> {
  const fake = await w.start(args);
  await waitForPort(w.port);
  return fake;
}

test("unknown keys are rejected at the top level and inside tables, naming them", () =>
  withWorld(async (w) => {
    const cases: [(c: Config) => void, RegExp][] = [
      [(c) => (c["allowlist"] = ["x.test"]), /unknown key 'allowlist'/],
      [(c) => (c["forward_proxy"]["enabeld"] = true), /unknown key 'forward_proxy\.enabeld'/],
      [(c) => (c["fetch_proxy"] = { monitoring: { entropy: 4 } }), /unknown key 'fetch_proxy\.monitoring\.entropy'/],
      [(c) => (c["dlp"]["patterns"] = [{ name: "k", regex: "x", exempt: [] }]), /unknown key 'dlp\.patterns\[0\]\.exempt'/],
    ];
    for (const [edit, pattern] of cases) {
      const config = baseConfig();
      edit(config);
      w.write(config);
      const r = await w.run(["run", "--config", w.configPath, "--listen", `127.0.0.1:${w.port}`]);
      assert.is(r.code, 1);
      assert.match(r.stderr, /^Error: loading config: /);
      assert.match(r.stderr, pattern);
    }
    assert.equal(readPipelockEvents(w.state), [], "never started");
  }));

test("mode one of three, strict needs an allowlist, internal holds CIDRs, one YAML document, loopback --listen", () =>
  withWorld(async (w) => {
    let files = 0;
    const runWith = async (config: Config | string, listen = `127.0.0.1:${w.port}`, extra: string[] = []) => {
      const path = `${w.configPath}.${++files}`;
      writeFileSync(path, typeof config === "string" ? config : stringify(config));
      return w.run(["run", "--config", path, "--listen", listen, ...extra]);
    };
    const cases: [Promise<Exit>, RegExp][] = [];
    cases.push([runWith({ ...baseConfig(), api_allowlist: [] }), /strict mode requires at least one domain in api_allowlist/]);
    for (const bad of ["10.0.0.0/33", "010.0.0.0/8", "fe80::/129", "fe80::1%eth0/64", "10.0.0.0"]) {
      cases.push([runWith({ ...baseConfig(), internal: ["127.0.0.0/8", bad] }), /'internal\[1\]' must be a CIDR/]);
    }
    cases.push([runWith({ ...baseConfig(), mode: "paranoid" }), /'mode' must be one of strict, balanced, audit/]);
    cases.push([runWith(`${stringify(baseConfig())}---\nmode: audit\n`), /exactly one YAML document/]);
    cases.push([runWith({ ...baseConfig(), api_allowlist: ["https://api.example.com"] }), /'api_allowlist\[0\]'/]);
    for (const [pending, pattern] of cases) {
      const r = await pending;
      assert.is(r.code, 1);
      assert.match(r.stderr, pattern);
    }
    for (const listen of ["0.0.0.0:8888", "localhost:8888", "127.0.0.1", "127.0.0.1:0"]) {
      const r = await runWith(baseConfig(), listen);
      assert.is(r.code, 1);
      assert.match(r.stderr, /--listen must be 127\.0\.0\.1:PORT/);
    }
    const badMode = await runWith(baseConfig(), undefined, ["--mode", "lax"]);
    assert.is(badMode.code, 1);
    assert.match(badMode.stderr, /--mode must be one of/);
  }));

test("as in pipelock, `version` is optional and unchecked, and `internal` takes what Go's net.ParseCIDR takes", () =>
  withWorld(async (w) => {
    const { version: _, ...unversioned } = baseConfig();
    w.write({ ...unversioned, internal: ["10.0.0.1/8", "192.168.7.0/24", "::1/128", "::ffff:10.0.0.0/104", "fc00::/07"] });
    const fake = await startListening(w);
    assert.is((await waitForPipelockEvent(w.state, (e) => e.event === "started")).pid, fake.child.pid);
  }));

test("IP literals in the internal ranges (any notation) are refused even when allowlisted", () =>
  withWorld(async (w) => {
    w.write({ ...baseConfig(), api_allowlist: ["127.0.0.1", "2130706433", "192.168.7.9", "8.8.8.8", "api.example.com"], internal: ["192.168.7.0/24"] });
    await startListening(w);
    for (const host of ["127.0.0.1", "2130706433", "0x7f.0.0.1", "192.168.7.9", "10.1.2.3", "[::1]"]) {
      assert.is((await connectTo(w.port, host)).status, 403, host);
    }
    assert.is((await connectTo(w.port, "8.8.8.8")).status, 200, "a public allowlisted IP");
    assert.is((await connectTo(w.port, "api.example.com.")).status, 200, "a trailing dot is ignored");
    assert.is((await ask(w.port, "CONNECT api.example.com HTTP/1.1\r\nHost: api.example.com\r\n\r\n")).status, 200, "no port means 443");
  }));

test("reloads: --mode lasts until the first reload; enabling forward_proxy or weakening strict mode is rejected", () =>
  withWorld(async (w) => {
    w.write({ ...baseConfig(), mode: "balanced" });
    const fake = await startListening(w, ["--mode", "strict"]);
    assert.is((await connectTo(w.port, "evil.test")).status, 403, "--mode strict at startup");
    w.write({ ...baseConfig(), mode: "balanced", api_allowlist: ["api.example.com", "x.test"] });
    fake.child.kill("SIGHUP");
    const failed = await waitForPipelockEvent(w.state, (e) => e.event === "reload-failed");
    assert.match(failed.reason ?? "", /security downgrade from strict mode \(mode\)/);
    w.write({ ...baseConfig(), enforce: false });
    fake.child.kill("SIGHUP");
    await waitForPipelockEvent(w.state, (e) => e.event === "reload-failed" && /enforce/.test(e.reason ?? ""));
    w.write({ ...baseConfig(), mode: "strict", api_allowlist: ["evil.test"] });
    fake.child.kill("SIGHUP");
    await waitForPipelockEvent(w.state, (e) => e.event === "reload");
    assert.is((await connectTo(w.port, "evil.test")).status, 200);
    fake.child.kill("SIGTERM");
    await fake.exit;

    w.write({ ...baseConfig(), mode: "balanced", forward_proxy: { enabled: false } });
    const off = await startListening(w);
    w.write({ ...baseConfig(), mode: "balanced" });
    off.child.kill("SIGHUP");
    const refused = await waitForPipelockEvent(w.state, (e) => e.event === "reload-failed" && /forward proxy/.test(e.reason ?? ""));
    assert.match(refused.reason ?? "", /cannot be enabled via reload/);
    assert.is((await connectTo(w.port, "api.example.com")).status, 405);
  }));

test("listens on --listen and answers allowed/blocked from api_allowlist", () =>
  withWorld(async (w) => {
    const fake = await startListening(w);
    const started = await waitForPipelockEvent(w.state, (e) => e.event === "started");
    assert.is(started.listen, `127.0.0.1:${w.port}`);
    assert.is(started.pid, fake.child.pid);

    const get = await ask(w.port, "GET http://api.example.com/v1/x HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
    assert.equal(get, { status: 200, body: "allowed api.example.com\n" });
    assert.equal(await connectTo(w.port, "allowed.test"), { status: 200, body: "allowed allowed.test\n" }, "*.x matches the apex");
    assert.equal(await connectTo(w.port, "a.b.allowed.test"), { status: 200, body: "allowed a.b.allowed.test\n" });
    assert.equal(await connectTo(w.port, "API.Example.com"), { status: 200, body: "allowed api.example.com\n" });
    assert.equal(await connectTo(w.port, "evil.test"), { status: 403, body: "blocked: domain not in allowlist: evil.test\n" });
    assert.equal(await connectTo(w.port, "notallowed.test"), { status: 403, body: "blocked: domain not in allowlist: notallowed.test\n" });
    assert.equal(await connectTo(w.port, "example.com"), { status: 403, body: "blocked: domain not in allowlist: example.com\n" });
    assert.is((await ask(w.port, "GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n")).status, 404, "origin-form: pipelock's own paths");
    const health = await ask(w.port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert.is(health.status, 200);
    assert.is(JSON.parse(health.body).status, "healthy");

    fake.child.kill("SIGTERM");
    assert.is((await fake.exit).code, 0);
    assert.equal(readPipelockEvents(w.state).map((e) => e.event), ["started", "stopped"]);
  }));

test("SIGHUP reloads the config: the answer changes and the reload is recorded once", () =>
  withWorld(async (w) => {
    const fake = await startListening(w);
    assert.is((await connectTo(w.port, "evil.test")).status, 403);
    w.write({ ...baseConfig(), api_allowlist: ["evil.test"] });
    fake.child.kill("SIGHUP");
    await waitForPipelockEvent(w.state, (e) => e.event === "reload");
    assert.equal(await connectTo(w.port, "evil.test"), { status: 200, body: "allowed evil.test\n" });
    assert.is((await connectTo(w.port, "api.example.com")).status, 403, "the old allowlist is gone");
    fake.child.kill("SIGTERM");
    assert.is((await fake.exit).code, 0);
    assert.equal(readPipelockEvents(w.state).map((e) => e.event), ["started", "reload", "stopped"]);
  }));

test("a broken config on reload is refused with its reason and the old config keeps answering", () =>
  withWorld(async (w) => {
    const fake = await startListening(w);
    w.write({ ...baseConfig(), api_allowlist: ["evil.test"], bogus: 1 });
    fake.child.kill("SIGHUP");
    const failed = await waitForPipelockEvent(w.state, (e) => e.event === "reload-failed");
    assert.match(failed.reason ?? "", /unknown key 'bogus'/);
    assert.is((await connectTo(w.port, "api.example.com")).status, 200);
    assert.is((await connectTo(w.port, "evil.test")).status, 403);
    w.write("version: 1\nmode: [");
    fake.child.kill("SIGHUP");
    await waitForPipelockEvent(w.state, (e) => e.event === "reload-failed" && !/bogus/.test(e.reason ?? ""));
    assert.is((await connectTo(w.port, "api.example.com")).status, 200, "still the first config");
    assert.not.ok(readPipelockEvents(w.state).some((e) => e.event === "reload"));
  }));

test("mode and forward_proxy.enabled shape the answers", () =>
  withWorld(async (w) => {
    const blocklist = { monitoring: { blocklist: ["*.pastebin.com"] } };
    w.write({ ...baseConfig(), mode: "balanced", fetch_proxy: blocklist });
    const balanced = await startListening(w);
    assert.is((await connectTo(w.port, "evil.test")).status, 200, "balanced lets unknown hosts through");
    assert.is((await connectTo(w.port, "x.pastebin.com")).status, 403, "but not blocklisted ones");
    balanced.child.kill("SIGTERM");
    await balanced.exit;

    const strict = await startListening(w, ["--mode", "strict"]);
    assert.is((await connectTo(w.port, "evil.test")).status, 403, "--mode overrides the file");
    strict.child.kill("SIGTERM");
    await strict.exit;

    w.write({ ...baseConfig(), forward_proxy: { enabled: false } });
    const disabled = await startListening(w);
    assert.is((await connectTo(w.port, "api.example.com")).status, 405);
  }));

test("logs pipelock's JSON lines: startup and each reload carry the sha256 of the config file's bytes; a write of the file reloads without a signal", () =>
  withWorld(async (w) => {
    const fake = await startListening(w);
    const lines = () => fake.stdout().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    /** The next JSON line with this event, once the fake has written it. */
    const next = (event: string, after: number) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const look = () => {
          const found = lines().slice(after).find((l) => l.event === event);
          if (found) (fake.child.stdout!.off("data", look), resolve(found));
        };
        fake.child.stdout!.on("data", look);
        look();
      });
    const hashOf = () => createHash("sha256").update(readFileSync(w.configPath)).digest("hex");
    assert.is((await next("startup", 0)).config_hash, hashOf());
    w.write({ ...baseConfig(), api_allowlist: ["evil.test"] });
    assert.is((await next("config_reload", 1)).config_hash, hashOf(), "reloaded by the write alone");
    assert.is((await connectTo(w.port, "evil.test")).status, 200);
    await connectTo(w.port, "api.example.com");
    assert.is((await next("blocked", 0)).reason, "domain not in allowlist: api.example.com");
    w.write({ ...baseConfig(), mode: "audit" });
    const rejected = await next("error", 0);
    assert.equal([rejected.method, rejected.error], ["CONFIG_RELOAD", "rejected: security downgrade from strict mode"]);
  }));

test("a secrets_file must exist and be closed to others (0600 or 0640), as pipelock checks", () =>
  withWorld(async (w) => {
    const secrets = join(w.state, "..", "secrets");
    w.write({ ...baseConfig(), dlp: { scan_env: false, include_defaults: true, secrets_file: secrets } });
    const missing = await w.run(["run", "--config", w.configPath, "--listen", `127.0.0.1:${w.port}`]);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /secrets_file .*ENOENT/);
    writeFileSync(secrets, "a-secret-of-enough-length\n", { mode: 0o644 });
    const open = await w.run(["run", "--config", w.configPath, "--listen", `127.0.0.1:${w.port}`]);
    assert.match(open.stderr, /unsafe permissions \(mode 0644\)/);
    chmodSync(secrets, 0o600);
    await startListening(w);
  }));

test("FAKE_FAIL=pipelock exits 1 before listening; FAKE_HANG=pipelock never listens until signalled", () =>
  withWorld(async (w) => {
    const failed = await w.run(["run", "--config", w.configPath, "--listen", `127.0.0.1:${w.port}`], { FAKE_FAIL: "pipelock" });
    assert.is(failed.code, 1);
    assert.match(failed.stderr, /^Error: /);
    assert.equal(readPipelockEvents(w.state), []);

    const hung = await w.start([], { FAKE_HANG: "pipelock" });
    const marker = join(w.state, "hang", "pipelock");
    await waitForFile(marker);
    assert.is(readFileSync(marker, "utf8").trim(), String(hung.child.pid));
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(w.port, "127.0.0.1");
      socket.on("connect", () => (socket.destroy(), resolve(false)));
      socket.on("error", () => resolve(true));
    });
    assert.ok(refused, "a hung pipelock is not listening");
    hung.child.kill("SIGTERM");
    assert.is((await hung.exit).code, 143);
    assert.not.ok(existsSync(join(w.state, "pipelock", "events.jsonl")));
  }));

test.run();
