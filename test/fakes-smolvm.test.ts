// Proves the smolvm contract fake's failure injection, which the launch
// suites use to make a step fail or hang: FAKE_FAIL, FAKE_HANG,
// FAKE_BUSY_SMOLVM, a typo in them refused, and the record of every call
// they assert on. (smolvm itself cannot be installed here; the namespace
// machine, test/nsvm, runs the same CLI for real.)
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isAlive } from "./fixtures/fakes/lib/process.js";
import { vmSocketPath } from "./fixtures/fakes/smolvm/vm-control.js";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type Exit, fakesEnv, makeStateDir, readMachines, readSmolvmCalls, runFake, startFake, waitForFile } from "./helpers/fakes.js";

const TOKEN_VALUE = "tok-visible-9f8e7d";

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

test("FAKE_BUSY_SMOLVM=N fails the first N invocations that write with 'database is locked', then succeeds; reads are never refused", () =>
  withWorld(async (w) => {
    const busy = { FAKE_BUSY_SMOLVM: "2" };
    const smolfile = w.smolfile();
    const createBusy = ["machine", "create", "--name", "busy", "-s", smolfile, "--mount-socket", `${w.gvSocket}:/run/bottle/gvproxy.sock`];
    // smolvm's WAL mode lets readers through while another process writes.
    const list = await w.smolvm(["machine", "ls", "--json"], busy);
    assert.is(list.code, 0, list.stderr);
    assert.equal(JSON.parse(list.stdout), []);
    for (let i = 0; i < 2; i++) assertError(await w.smolvm(createBusy, busy), /^Error: database is locked\n$/);
    assert.equal(Object.keys(readMachines(w.state)), [], "a refused create made no machine");
    const third = await w.smolvm(createBusy, busy);
    assert.is(third.code, 0, third.stderr);
    assert.equal(Object.keys(readMachines(w.state)), ["busy"]);
    const status = await w.smolvm(["machine", "status", "--name", "busy", "--json"], { FAKE_BUSY_SMOLVM: "5" });
    assert.is(status.code, 0, "status only reads: never refused as busy");
    assert.is(readSmolvmCalls(w.state).length, 5);
  }));

/** A process that is alive until killed: the holder of a planted database lock. */
function liveHolder(): ChildProcess {
  return spawn("sleep", ["600"], { stdio: "ignore" });
}

function plantLock(w: World, pid: number): string {
  const lock = join(w.state, "smolvm", "db.lock");
  mkdirSync(join(w.state, "smolvm"), { recursive: true });
  writeFileSync(lock, String(pid));
  return lock;
}

test("a writer waits for a live holder's lock, then refuses as busy and leaves that lock in place; readers never wait for it", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "held")).code, 0);
    const holder = liveHolder();
    try {
      const lock = plantLock(w, holder.pid!);
      assertError(await w.smolvm(["machine", "start", "--name", "held"], withToken), /^Error: database is locked\n$/);
      assert.is(readFileSync(lock, "utf8"), String(holder.pid), "the live holder's lock is still its own");
      const status = await w.smolvm(["machine", "status", "--name", "held", "--json"]);
      assert.is(status.code, 0, `status reads without the lock: ${status.stderr}`);
      assert.is((JSON.parse(status.stdout) as { state: string }).state, "created");
      const list = await w.smolvm(["machine", "ls", "--json"]);
      assert.is(list.code, 0, `ls reads without the lock: ${list.stderr}`);
      rmSync(lock);
    } finally {
      holder.kill("SIGKILL");
    }
  }));

test("a dead holder's lock (a killed invocation's) is broken, and the write goes through", () =>
  withWorld(async (w) => {
    const holder = liveHolder();
    await new Promise((resolve) => holder.on("exit", resolve).kill("SIGKILL"));
    const lock = plantLock(w, holder.pid!);
    const made = await create(w, "after-dead");
    assert.is(made.code, 0, made.stderr);
    assert.equal(Object.keys(readMachines(w.state)), ["after-dead"]);
    assert.not.ok(existsSync(lock), "released after the write");
  }));

test("a running machine whose VM process lives but does not answer is unreachable (smolvm's resolve_state), and stop kills that process", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "mute")).code, 0);
    const started = await w.smolvm(["machine", "start", "--name", "mute"], withToken);
    assert.is(started.code, 0, started.stderr);
    const pid = (await statusOf(w, "mute")).pid as number;
    assert.ok(isAlive(pid), "the VM runs");
    // Its socket replaced by a plain file: the VM lives on (its socket file still exists) but nobody answers.
    const socket = vmSocketPath(join(w.state, "smolvm"), "mute");
    writeFileSync(`${socket}.mute`, "");
    renameSync(`${socket}.mute`, socket);
    const mute = await statusOf(w, "mute");
    assert.is(mute.state, "unreachable");
    assert.is(mute.pid, pid);
    const stopped = await w.smolvm(["machine", "stop", "--name", "mute"]);
    assert.is(stopped.code, 0, stopped.stderr);
    assert.not.ok(isAlive(pid), "stop killed the VM process that no longer answered");
    assert.is((await statusOf(w, "mute")).state, "stopped");
  }));

test("a running machine whose VM process is gone is stopped, and another process with its pid is not taken for it", () =>
  withWorld(async (w) => {
    assert.is((await create(w, "gone")).code, 0);
    assert.is((await w.smolvm(["machine", "start", "--name", "gone"], withToken)).code, 0);
    const pid = (await statusOf(w, "gone")).pid as number;
    process.kill(pid, "SIGKILL");
    const stranger = liveHolder();
    try {
      // The record now names a live process that is not a VM.
      const db = JSON.parse(readFileSync(join(w.state, "smolvm", "machines.json"), "utf8")) as { machines: Record<string, { pid: number }> };
      db.machines["gone"]!.pid = stranger.pid!;
      writeFileSync(join(w.state, "smolvm", "machines.json"), JSON.stringify(db));
      assert.is((await statusOf(w, "gone")).state, "stopped");
      assert.is((await w.smolvm(["machine", "stop", "--name", "gone"])).code, 0);
      assert.ok(isAlive(stranger.pid!), "stop did not kill a process that merely has the recorded pid");
    } finally {
      stranger.kill("SIGKILL");
    }
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

test.run();
