// bwrap started by bottle itself (bwrap-process.ts) against a fake bwrap:
// which process a stop's SIGTERM reaches (the jail's first process only
// when bwrap's --info-fd names a real pid above 1, else bwrap itself; a
// signal that comes before the info waits for it), what its exit reports,
// its refusals, and the supervisor routing a stop through it. The suites
// that send signals run bwrap's parent (helpers/jail-parent.ts) as nobody
// when the suite runs as root, so a pid it should never have signalled (1,
// a process group) is out of its reach even if a check is broken.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jailPidFromInfo, spawnBwrap } from "../src/backends/smolmachines/jail/index.js";
import { Supervisor } from "../src/backends/smolmachines/process/supervisor.js";
import { underJailParent } from "./helpers/jail.js";
import { fileHoldsBefore, withTimeout } from "./helpers/process.js";
import { tempDir } from "./helpers/tmp.js";

const AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
// The fake gets no environment (bwrap-process passes none) and `<mode> <value>`.
const FAKE_BWRAP = `#!${process.execPath}
const { spawn } = require("node:child_process");
const { closeSync, writeSync } = require("node:fs");
const [, , mode, value] = process.argv;
if (mode === "exit") process.exit(Number(value));
if (mode === "signal") process.kill(process.pid, value);
let jail;
process.on("SIGTERM", () => {
  console.log("bwrap got TERM");
  jail?.kill("SIGKILL");
  process.exit(0);
});
// Gone with its parent, as the real bwrap is (--die-with-parent), also when a test fails.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    jail?.kill("SIGKILL");
    process.exit(1);
  }
}, 200);
const giveInfo = (text) => {
  writeSync(3, text);
  closeSync(3);
};
if (mode === "info") {
  giveInfo(value);
  console.log("ready");
}
const startJail = () => {
  jail = spawn(process.execPath, ["-e", 'process.on("SIGTERM", () => { console.log("jail got TERM"); process.exit(0); }); process.on("disconnect", () => process.exit(1)); process.send("up"); setInterval(() => undefined, 60_000);'], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  jail.once("message", () => {
    giveInfo(JSON.stringify({ "child-pid": jail.pid }));
    console.log("jail up");
  });
  jail.on("exit", (code) => process.exit(code ?? 1));
};
// The jail's first process starts (and traps SIGTERM) only once the test says go (writes to the fifo at value), or at once.
if (mode === "jail") {
  console.log("started");
  require("node:fs").readFile(value, () => startJail());
}
if (mode === "jail-now") startJail();
`;

function fakeBwrap(): string {
  const dir = tempDir("bls-");
  chmodSync(dir, 0o755);
  const path = join(dir, "bwrap");
  writeFileSync(path, FAKE_BWRAP, { mode: 0o755 });
  return path;
}

interface Launched {
  child: ChildProcess;
  stdout: () => string;
  /** Resolves once stdout has `line`; rejects if the parent exits first. */
  line: (line: string) => Promise<void>;
  exited: Promise<number | null>;
}

/** The fake bwrap under bwrap's stand-in parent (as nobody when root). */
function launch(bwrap: string, args: readonly string[]): Launched {
  const [node, ...parentArgs] = underJailParent({ command: bwrap, args: [...args], copies: [] });
  const child = spawn(node, parentArgs, { stdio: ["ignore", "pipe", "inherit"], ...AS });
  let out = "";
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    out += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const line = (want: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (out.split("\n").includes(want)) resolve();
        else waiters.push(check);
      };
      check();
      void exited.then(() => setImmediate(() => (out.split("\n").includes(want) ? resolve() : reject(new Error(`bwrap's parent exited without printing ${want}; stdout: ${out}`)))));
    });
  return { child, stdout: () => out, line, exited };
}

/** Fails the test (and kills the parent) when `promise` has not settled by the deadline: a signal that went nowhere. */
function within<T>(promise: Promise<T>, what: string, launched: Launched): Promise<T> {
  return withTimeout(promise, what, 20_000, () => {
    launched.child.kill("SIGKILL");
    return `; stdout: ${launched.stdout()}`;
  });
}

test("exited reports bwrap's exit code, or the signal that killed it", async () => {
  const bwrap = fakeBwrap();
  const quiet = { copies: [], stdout: "ignore", stderr: "ignore" } as const;
  assert.equal(await spawnBwrap(bwrap, ["exit", "7"], quiet).exited, { code: 7, signal: null });
  assert.equal(await spawnBwrap(bwrap, ["signal", "SIGTERM"], quiet).exited, { code: null, signal: "SIGTERM" });
  assert.equal(await spawnBwrap(bwrap, ["signal", "SIGKILL"], quiet).exited, { code: null, signal: "SIGKILL" });
});

test("refusals: a copied file it cannot open (nothing starts), a bwrap that cannot start", async () => {
  const marker = join(tempDir("bls-copy-"), "bwrap-ran");
  assert.throws(
    () => spawnBwrap("/usr/bin/touch", [marker], { copies: ["/nonexistent/copied"], stdout: "ignore", stderr: "ignore" }),
    (error: Error) => /^cannot open a file the jail gets a copy of: ENOENT: no such file or directory, open '\/nonexistent\/copied'$/.test(error.message),
  );
  assert.not.ok(existsSync(marker), "bwrap ran");
  const missing = spawnBwrap("/nonexistent/bwrap", [], { copies: [], stdout: "ignore", stderr: "ignore" });
  assert.is(missing.child.pid, undefined);
  assert.equal(await missing.exited, { code: null, signal: null, spawnError: "cannot start /nonexistent/bwrap: spawn /nonexistent/bwrap ENOENT" });
  assert.is(await missing.jailPid, undefined);
});

// Each names no pid bottle may signal: SIGTERM goes to bwrap (which then ends the jail with it).
const NOT_A_JAIL_PID = ['{"child-pid": 1}', '{"child-pid": -2147483647}', '{"child-pid": 2.5}', '{"child-pid": "-2147483647"}', "{}", "not json", ""];

test("jailPidFromInfo takes only a whole pid above 1", () => {
  for (const info of NOT_A_JAIL_PID) assert.is(jailPidFromInfo(info), undefined, info);
  assert.is(jailPidFromInfo('{"child-pid": 4242, "net-namespace": 4026532000}'), 4242);
});

for (const info of NOT_A_JAIL_PID.filter(Boolean)) {
  test(`--info-fd says ${info}: SIGTERM goes to bwrap, not to that pid`, async () => {
    const launched = launch(fakeBwrap(), ["info", info]);
    await within(launched.line("ready"), "the fake bwrap's info", launched);
    launched.child.kill("SIGTERM");
    await within(launched.line("bwrap got TERM"), "SIGTERM reaching bwrap", launched);
    assert.is(await launched.exited, 0);
  });
}

test("a SIGTERM that comes before bwrap names the jail's pid waits for it, then reaches the jail (not bwrap)", async () => {
  const dir = tempDir("bls-go-");
  chmodSync(dir, 0o755);
  const go = join(dir, "go");
  execFileSync("mkfifo", ["-m", "0666", go]);
  const launched = launch(fakeBwrap(), ["jail", go]);
  await within(launched.line("started"), "the fake bwrap", launched);
  launched.child.kill("SIGTERM");
  writeFileSync(go, "go\n");
  await within(launched.line("jail got TERM"), "SIGTERM reaching the jail", launched);
  assert.is(await launched.exited, 0);
  assert.not.match(launched.stdout(), "bwrap got TERM");
});

test("the supervisor's stop of a child started by spawnBwrap reaches the jail's pid 1, not bwrap", async () => {
  const dir = tempDir("bls-sup-");
  const logPath = join(dir, "jail.log");
  const supervisor = new Supervisor({ searchPath: "", cwd: dir });
  const child = await supervisor.start("gvproxy", fakeBwrap(), ["jail-now", ""], {
    log: { path: logPath, fd: openSync(logPath, "a") },
    spawn: (program, args, { cwd, log }) => {
      const bwrap = spawnBwrap(program, args, { copies: [], stdout: log, stderr: log, cwd, detached: true });
      return { pid: bwrap.child.pid, exited: bwrap.exited, signal: bwrap.signal };
    },
  });
  assert.ok(await fileHoldsBefore(logPath, "jail up", child.exited, 20_000), "the fake jail started");
  const exit = await withTimeout(child.stop(20_000), "the stop", 30_000);
  assert.equal(exit, { code: 0, signal: null });
  const log = readFileSync(logPath, "utf8");
  assert.match(log, "jail got TERM");
  assert.not.match(log, "bwrap got TERM");
});

test.run();
