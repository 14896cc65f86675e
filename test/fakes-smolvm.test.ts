// Proves the smolvm contract fake enforces smolvm.md: Smolfile keys and
// types, machine names, the lifecycle and its state JSON, exec's checks,
// secrets by reference, the single-writer DB, and failure/hang injection.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { vmSocketPath } from "./fixtures/fakes/smolvm/vm-control.js";
import {
  type Exit,
  fakesEnv,
  isAlive,
  makeStateDir,
  readMachines,
  readSmolvmCalls,
  runFake,
  startFake,
  waitForFile,
} from "./helpers/fakes.js";

const TOKEN_VALUE = "tok-visible-9f8e7d";
const STATUS_KEYS = ["cpus", "created_at", "labels", "memory_mib", "name", "network", "pid", "state"];

interface World {
  root: string;
  state: string;
  guest: string;
  gvSocket: string;
  smolfile(text?: string): string;
  smolvm(args: string[], extra?: Record<string, string>): Promise<Exit>;
}

function baseSmolfile(guest: string): string {
  return [
    `image = "alpine"`,
    `net = false`,
    `cpus = 2`,
    `memory = 1024`,
    `volumes = ["${guest}:/run/bottle/guest:ro"]`,
    `[secrets]`,
    `AGENT_TOKEN = { from_env = "BOTTLE_TEST_TOKEN" }`,
    ``,
  ].join("\n");
}

/** A temp FAKES_STATE, a guest dir holding an executable net-up.sh, and a
 * listening unix socket standing in for gvproxy's control socket. */
async function withWorld(body: (w: World) => Promise<void>): Promise<void> {
  const root = makeStateDir("fakes-smolvm-");
  const state = join(root, "state");
  const guest = join(root, "guest");
  mkdirSync(state);
  mkdirSync(guest);
  writeFileSync(join(guest, "net-up.sh"), "#!/bin/sh\nexec \"$@\"\n");
  chmodSync(join(guest, "net-up.sh"), 0o755);
  writeFileSync(join(guest, "notes.txt"), "not executable\n");
  const gvSocket = join(root, "gv.sock");
  const server: Server = createServer((c) => c.on("error", () => undefined));
  await new Promise<void>((resolve) => server.listen(gvSocket, resolve));
  let files = 0;
  const w: World = {
    root,
    state,
    guest,
    gvSocket,
    smolfile(text = baseSmolfile(guest)) {
      const path = join(root, `Smolfile-${++files}.toml`);
      writeFileSync(path, text);
      return path;
    },
    smolvm(args, extra = {}) {
      return runFake("smolvm", args, fakesEnv(state, extra));
    },
  };
  try {
    await body(w);
  } finally {
    // Deleting FAKES_STATE would end the VM processes too; this is the tidy way.
    await Promise.all(Object.keys(readMachines(state)).map((name) => w.smolvm(["machine", "delete", "--name", name, "-f"])));
    server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const create = (w: World, name: string, smolfile = w.smolfile()) =>
  w.smolvm(["machine", "create", "--name", name, "-s", smolfile, "--mount-socket", `${w.gvSocket}:/run/bottle/gvproxy.sock`]);

const withToken = { BOTTLE_TEST_TOKEN: TOKEN_VALUE };

async function statusOf(w: World, name: string): Promise<Record<string, unknown>> {
  const r = await w.smolvm(["machine", "status", "--name", name, "--json"]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function assertError(r: Exit, pattern: RegExp): void {
  assert.is(r.code, 1, `expected exit 1, got ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, /^Error: /);
  assert.match(r.stderr, pattern);
}

test("create rejects an unknown top-level Smolfile key, naming it", () =>
  withWorld(async (w) => {
    const r = await create(w, "m1", w.smolfile(`imagee = "alpine"\n`));
    assertError(r, /unknown key 'imagee'/);
    assert.equal(readMachines(w.state), {});
  }));

test("create rejects an unknown key inside a table, naming its path", () =>
  withWorld(async (w) => {
    const cases: [string, RegExp][] = [
      [`[network]\nallow_ports = ["443"]\n`, /unknown key 'network\.allow_ports'/],
      [`[dev]\nvolume = []\n`, /unknown key 'dev\.volume'/],
      [`[secrets]\nT = { from_env = "A", value = "x" }\n`, /unknown key 'secrets\.T\.value'/],
      [`[fork]\nfrom = "x"\n`, /unknown key 'fork\.from'/],
    ];
    const results = await Promise.all(cases.map(([text]) => create(w, "m1", w.smolfile(text))));
    results.forEach((r, i) => assertError(r, cases[i]?.[1] ?? /never/));
    assert.equal(readMachines(w.state), {});
  }));

test("create enforces the listed types: net boolean, volumes host:guest[:ro] on an existing dir", () =>
  withWorld(async (w) => {
    const cases: [string, RegExp][] = [
      [`net = "off"\n`, /'net' must be a boolean/],
      [`cpus = "4"\n`, /'cpus' must be an integer/],
      [`volumes = ["${w.guest}"]\n`, /'volumes\[0\]' must be host:guest/],
      [`volumes = ["${w.guest}:/g:rw"]\n`, /':ro'/],
      [`volumes = ["${w.root}/missing:/g"]\n`, /is not an existing directory/],
      [`[secrets]\nT = { }\n`, /exactly one of from_env, from_file/],
    ];
    const results = await Promise.all(cases.map(([text]) => create(w, "m1", w.smolfile(text))));
    results.forEach((r, i) => assertError(r, cases[i]?.[1] ?? /never/));
    assert.equal(readMachines(w.state), {});
  }));

test("machine names follow smolvm's rule", () =>
  withWorld(async (w) => {
    const bad = ["", "-lead", "_lead", "trail-", "a--b", "sp ace", "dot.ted", "a".repeat(129)];
    for (const r of await Promise.all(bad.map((name) => create(w, name)))) assertError(r, /invalid machine name/);
    assert.equal(readMachines(w.state), {});
    const longest = `b${"x".repeat(126)}9`;
    for (const r of await Promise.all(["a", "A_b-c9", longest].map((name) => create(w, name)))) assert.is(r.code, 0, r.stderr);
    assert.equal(Object.keys(readMachines(w.state)).sort(), [longest, "A_b-c9", "a"].sort());
  }));

test("create refuses a duplicate name", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "dup")).code, 0);
    assertError(await create(w, "dup"), /machine 'dup' already exists/);
  }));

test("lifecycle: create, start, status, exec exit code, stop ends the VM process, delete", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "life")).code, 0);
    const created = await statusOf(w, "life");
    assert.equal(Object.keys(created).sort(), STATUS_KEYS);
    assert.equal({ ...created, created_at: "" }, {
      name: "life",
      state: "created",
      pid: null,
      cpus: 2,
      memory_mib: 1024,
      network: false,
      labels: {},
      created_at: "",
    });
    assert.ok(!Number.isNaN(Date.parse(String(created["created_at"]))));

    const started = await w.smolvm(["machine", "start", "--name", "life"], withToken);
    assert.is(started.code, 0, started.stderr);
    const running = await statusOf(w, "life");
    assert.is(running["state"], "running");
    const pid = running["pid"];
    assert.type(pid, "number");
    assert.ok(isAlive(pid as number), "the VM process runs");

    const cmd = ["machine", "exec", "--name", "life", "-it", "-w", "/work", "-e", "A=b", "--", "/run/bottle/guest/net-up.sh", "claude"];
    const seven = await w.smolvm(cmd, { ...withToken, FAKE_EXEC_EXIT: "7" });
    assert.is(seven.code, 7, seven.stderr);
    assert.is(seven.stdout, "fake-smolvm exec: /run/bottle/guest/net-up.sh claude\n");
    assert.is((await w.smolvm(cmd, withToken)).code, 0);

    assert.is((await w.smolvm(["machine", "stop", "--name", "life"])).code, 0);
    assert.not.ok(isAlive(pid as number), "stop waited for the VM process to exit");
    const stopped = await statusOf(w, "life");
    assert.is(stopped["state"], "stopped");
    assert.is(stopped["pid"], null);

    assert.is((await w.smolvm(["vm", "delete", "--name", "life"])).code, 0);
    assertError(await w.smolvm(["machine", "status", "--name", "life", "--json"]), /^Error: machine 'life' not found\n$/);
    const ls = await w.smolvm(["machine", "ls", "--json"]);
    assert.equal(JSON.parse(ls.stdout), []);
  }));

test("exec fails on a machine that is not running", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "idle")).code, 0);
    const exec = ["machine", "exec", "--name", "idle", "--", "/run/bottle/guest/net-up.sh"];
    assertError(await w.smolvm(exec, withToken), /machine 'idle' is not running/);
    assert.is((await w.smolvm(["machine", "start", "--name", "idle"], withToken)).code, 0);
    assert.is((await w.smolvm(["machine", "stop", "--name", "idle"])).code, 0);
    assertError(await w.smolvm(exec, withToken), /machine 'idle' is not running/);
  }));

test("exec requires an executable file on a mounted volume", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "ex")).code, 0);
    assert.is((await w.smolvm(["machine", "start", "--name", "ex"], withToken)).code, 0);
    const exec = (cmd: string) => w.smolvm(["machine", "exec", "--name", "ex", "--", cmd], withToken);
    const cases: [string, RegExp][] = [
      ["/bin/sh", /not under any volume/],
      ["net-up.sh", /absolute, normalized guest path/],
      ["/run/bottle/guest/../guest/net-up.sh", /absolute, normalized guest path/],
      ["/run/bottle/guest/notes.txt", /is not an executable file/],
      ["/run/bottle/guest/missing.sh", /is not an executable file/],
    ];
    const results = await Promise.all(cases.map(([cmd]) => exec(cmd)));
    results.forEach((r, i) => assertError(r, cases[i]?.[1] ?? /never/));
    assertError(await w.smolvm(["machine", "exec", "--name", "ex", "/run/bottle/guest/net-up.sh"], withToken), /'--'/);
    assert.is((await exec("/run/bottle/guest/net-up.sh")).code, 0);
  }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

test("start fails on a missing from_env secret, naming it, and no value is printed or stored", () =>
  withWorld(async (w) => {
    const text = `${baseSmolfile(w.guest)}OTHER = { from_env = "BOTTLE_TEST_MISSING" }\n`;
    assert.is((await create(w, "sec", w.smolfile(text))).code, 0);
    const r = await w.smolvm(["machine", "start", "--name", "sec"], withToken);
    assertError(r, /secret 'OTHER': host environment variable 'BOTTLE_TEST_MISSING' is not set/);
    assert.not.ok((r.stdout + r.stderr).includes(TOKEN_VALUE));
    assert.is((await statusOf(w, "sec"))["state"], "created");
    const empty = await w.smolvm(["machine", "start", "--name", "sec"], { ...withToken, BOTTLE_TEST_MISSING: "" });
    assertError(empty, /'BOTTLE_TEST_MISSING' is not set/);
    assert.is((await w.smolvm(["machine", "start", "--name", "sec"], { ...withToken, BOTTLE_TEST_MISSING: "x" })).code, 0);
    for (const file of filesUnder(w.state)) {
      assert.not.ok(readFileSync(file, "utf8").includes(TOKEN_VALUE), `${file} holds a secret value`);
    }
  }));

test("start requires each --mount-socket host path to be a unix socket", () =>
  withWorld(async (w) => {
    const plain = join(w.root, "not-a-socket");
    writeFileSync(plain, "");
    const args = (name: string, host: string) => ["machine", "create", "--name", name, "-s", w.smolfile(), "--mount-socket", `${host}:/run/g.sock`];
    assert.is((await w.smolvm(args("file", plain))).code, 0);
    assertError(await w.smolvm(["machine", "start", "--name", "file"], withToken), /is not a unix socket/);
    assert.is((await w.smolvm(args("gone", join(w.root, "gone.sock")))).code, 0);
    assertError(await w.smolvm(["machine", "start", "--name", "gone"], withToken), /host path .* is missing/);
    assertError(await w.smolvm(args("rel", "relative.sock")), /both absolute/);
  }));

test("FAKE_BUSY_SMOLVM=N fails the first N invocations with 'database is locked', then succeeds", () =>
  withWorld(async (w) => {
    const busy = { FAKE_BUSY_SMOLVM: "2" };
    for (let i = 0; i < 2; i++) assertError(await w.smolvm(["machine", "ls", "--json"], busy), /^Error: database is locked\n$/);
    const third = await w.smolvm(["machine", "ls", "--json"], busy);
    assert.is(third.code, 0, third.stderr);
    assert.equal(JSON.parse(third.stdout), []);
    assert.is(readSmolvmCalls(w.state).length, 3);
  }));

test("every invocation but --version is recorded as argv, pid and time only", () =>
  withWorld(async (w) => {
    const smolfile = w.smolfile();
    await create(w, "rec", smolfile);
    await w.smolvm(["machine", "start", "--name", "rec"], withToken);
    await w.smolvm(["--version"]);
    const calls = readSmolvmCalls(w.state);
    assert.equal(
      calls.map((c) => c.argv),
      [
        ["machine", "create", "--name", "rec", "-s", smolfile, "--mount-socket", `${w.gvSocket}:/run/bottle/gvproxy.sock`],
        ["machine", "start", "--name", "rec"],
      ],
    );
    for (const call of calls) {
      assert.equal(Object.keys(call).sort(), ["argv", "at", "pid"]);
      assert.type(call.pid, "number");
      assert.type(call.at, "number");
    }
  }));

test("parallel creates are serialised by the DB lock: no record is lost", () =>
  withWorld(async (w) => {
    const names = ["p1", "p2", "p3", "p4", "p5", "p6"];
    const results = await Promise.all(names.map((n) => create(w, n)));
    for (const r of results) assert.is(r.code, 0, r.stderr);
    assert.equal(Object.keys(readMachines(w.state)).sort(), names);
  }));

test("delete refuses a running machine without -f; delete -f stops it first", () =>
  withWorld(async (w) => {
    await create(w, "del");
    await w.smolvm(["machine", "start", "--name", "del"], withToken);
    const pid = (await statusOf(w, "del"))["pid"] as number;
    assertError(await w.smolvm(["machine", "delete", "--name", "del"]), /is running/);
    assert.ok(isAlive(pid));
    assert.is((await w.smolvm(["machine", "rm", "--name", "del", "-f"])).code, 0);
    assert.not.ok(isAlive(pid));
    assert.equal(readMachines(w.state), {});
  }));

test("a VM process that died reports stopped", () =>
  withWorld(async (w) => {
    await create(w, "crash");
    await w.smolvm(["machine", "start", "--name", "crash"], withToken);
    const pid = (await statusOf(w, "crash"))["pid"] as number;
    // The VM holds each control connection open until it exits.
    const control = connect(vmSocketPath(join(w.state, "smolvm"), "crash"));
    const gone = new Promise((resolve) => control.on("close", resolve));
    control.on("error", () => undefined);
    await new Promise((resolve) => control.once("data", resolve));
    process.kill(pid, "SIGKILL");
    await gone;
    assert.is(readMachines(w.state)["crash"]?.state, "running", "the DB still says running");
    const status = await statusOf(w, "crash");
    assert.is(status["state"], "stopped");
    assert.is(status["pid"], null);
    assert.is((await w.smolvm(["machine", "start", "--name", "crash"], withToken)).code, 0, "restartable");
  }));

test("FAKE_HANG=smolvm:create blocks before recording, until SIGTERM (exit 143)", () =>
  withWorld(async (w) => {
    const smolfile = w.smolfile();
    const args = ["machine", "create", "--name", "hung", "-s", smolfile];
    const hung = startFake("smolvm", args, fakesEnv(w.state, { FAKE_HANG: "smolvm:create" }));
    const marker = join(w.state, "hang", "smolvm-create");
    await waitForFile(marker);
    assert.is(readFileSync(marker, "utf8").trim(), String(hung.child.pid));
    assert.equal(readMachines(w.state), {});
    hung.child.kill("SIGTERM");
    assert.is((await hung.exit).code, 143);
    assert.equal(readMachines(w.state), {});
    assert.is((await w.smolvm(args)).code, 0, "no lock or record left behind");
  }));

test("FAKE_HANG=smolvm:exec prints its line, then blocks until SIGINT (exit 130)", () =>
  withWorld(async (w) => {
    await create(w, "hx");
    await w.smolvm(["machine", "start", "--name", "hx"], withToken);
    const exec = ["machine", "exec", "--name", "hx", "--", "/run/bottle/guest/net-up.sh"];
    const hung = startFake("smolvm", exec, fakesEnv(w.state, { ...withToken, FAKE_HANG: "smolvm:exec" }));
    await waitForFile(join(w.state, "hang", "smolvm-exec"));
    hung.child.kill("SIGINT");
    const exit = await hung.exit;
    assert.is(exit.code, 130);
    assert.is(exit.stdout, "fake-smolvm exec: /run/bottle/guest/net-up.sh\n");
  }));

test("FAKE_FAIL=smolvm:start fails with Error: and leaves the machine failed, with no process", () =>
  withWorld(async (w) => {
    await create(w, "bad");
    const r = await w.smolvm(["machine", "start", "--name", "bad"], { ...withToken, FAKE_FAIL: "smolvm:start" });
    assertError(r, /starting machine 'bad' failed/);
    assert.is((await statusOf(w, "bad"))["state"], "failed");
    assert.is(readMachines(w.state)["bad"]?.pid, null);
    assert.is((await w.smolvm(["machine", "start", "--name", "bad"], withToken)).code, 0, "a failed machine can start again");
  }));

test("a typo in FAKE_FAIL is a harness error, not a silent no-op", () =>
  withWorld(async (w) => {
    const r = await w.smolvm(["machine", "ls", "--json"], { FAKE_FAIL: "smolvm:strat" });
    assert.is(r.code, 2);
    assert.match(r.stderr, /FAKE HARNESS ERROR: FAKE_FAIL has an unknown entry 'smolvm:strat'/);
  }));

test("usage errors: unknown subcommand and flags are refused", () =>
  withWorld(async (w) => {
    assertError(await w.smolvm(["machine", "launch", "--name", "x"]), /unrecognized subcommand 'launch'/);
    assertError(await w.smolvm(["machine", "start", "--name", "x", "--force"]), /unexpected argument '--force'/);
    assertError(await w.smolvm(["machine", "create", "--name", "x", "-s", w.smolfile(), "--net"]), /--net/);
    assertError(await w.smolvm(["machine", "start"]), /--name/);
    const sockets = Array.from({ length: 65 }, (_, i) => ["--mount-socket", `${w.gvSocket}:/run/s${i}.sock`]).flat();
    assertError(await w.smolvm(["machine", "create", "--name", "many", "-s", w.smolfile(), ...sockets]), /at most 64/);
    const v = await w.smolvm(["--version"]);
    assert.is(v.code, 0);
    assert.match(v.stdout, /^smolvm /);
  }));

test.run();
