// bwrap-launcher.js against a fake bwrap (issue 20: mutants `npm run
// mutate` left alive in it): which process a forwarded SIGTERM reaches (the
// jail's first process only when bwrap's --info-fd names a real pid above 1,
// else bwrap itself; a signal that comes before the info waits for it), the
// status it exits with, and its refusals. The launcher runs as nobody when
// the suite runs as root, so a pid it should never have signalled (1, a
// process group) is out of its reach even if a check is broken.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { withTimeout } from "./helpers/process.js";
import { tempDir } from "./helpers/tmp.js";

const LAUNCHER = fileURLToPath(new URL("../src/backends/smolmachines/jail/bwrap-launcher.js", import.meta.url));
const AS = { ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}), timeout: 20_000, killSignal: "SIGKILL" as const };
// The fake gets no environment (the launcher passes none) and `--info-fd 3 <mode> <value>`.
const FAKE_BWRAP = `#!${process.execPath}
const { spawn } = require("node:child_process");
const { closeSync, writeSync } = require("node:fs");
const [, , , , mode, value] = process.argv;
if (mode === "exit") process.exit(Number(value));
if (mode === "signal") process.kill(process.pid, value);
let jail;
process.on("SIGTERM", () => {
  console.log("bwrap got TERM");
  jail?.kill("SIGKILL");
  process.exit(0);
});
// Gone with the launcher, as the real bwrap is (--die-with-parent), also when a test fails.
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
if (mode === "jail") {
  // The jail's first process starts (and traps SIGTERM) only once the test says go.
  console.log("started");
  process.stdin.once("data", () => {
    jail = spawn(process.execPath, ["-e", 'process.on("SIGTERM", () => { console.log("jail got TERM"); process.exit(0); }); process.on("disconnect", () => process.exit(1)); process.send("up"); setInterval(() => undefined, 60_000);'], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    jail.once("message", () => giveInfo(JSON.stringify({ "child-pid": jail.pid })));
    jail.on("exit", (code) => process.exit(code ?? 1));
  });
}
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
  /** Resolves once stdout has `line`; rejects if the launcher exits first. */
  line: (line: string) => Promise<void>;
  exited: Promise<number | null>;
}

function launch(args: readonly string[]): Launched {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { stdio: ["pipe", "pipe", "inherit"], ...AS, timeout: undefined });
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
      void exited.then(() => setImmediate(() => (out.split("\n").includes(want) ? resolve() : reject(new Error(`launcher exited without printing ${want}; stdout: ${out}`)))));
    });
  return { child, stdout: () => out, line, exited };
}

/** Fails the test (and kills the launcher) when `promise` has not settled by the deadline: a signal that went nowhere. */
function within<T>(promise: Promise<T>, what: string, launched: Launched): Promise<T> {
  return withTimeout(promise, what, 20_000, () => {
    launched.child.kill("SIGKILL");
    return `; stdout: ${launched.stdout()}`;
  });
}

test("the launcher exits with bwrap's exit code, or 128 + the signal that killed it", () => {
  const bwrap = fakeBwrap();
  assert.is(spawnSync(process.execPath, [LAUNCHER, bwrap, "exit", "7"], AS).status, 7);
  assert.is(spawnSync(process.execPath, [LAUNCHER, bwrap, "signal", "SIGTERM"], AS).status, 143);
  assert.is(spawnSync(process.execPath, [LAUNCHER, bwrap, "signal", "SIGKILL"], AS).status, 137);
});

test("the launcher's refusals: no bwrap (2, usage), a --copy file it cannot open (1), a bwrap that cannot start (127)", () => {
  const usage = spawnSync(process.execPath, [LAUNCHER], { encoding: "utf8", ...AS });
  assert.is(usage.status, 2);
  assert.is(usage.stderr, "bwrap-launcher: usage: bwrap-launcher.js [--copy <file>]… <bwrap> [bwrap args…]\n");
  const copy = spawnSync(process.execPath, [LAUNCHER, "--copy", "/nonexistent/copied", fakeBwrap(), "exit", "0"], { encoding: "utf8", ...AS });
  assert.is(copy.status, 1);
  assert.match(copy.stderr, /^bwrap-launcher: cannot open a file the jail gets a copy of: ENOENT: no such file or directory, open '\/nonexistent\/copied'\n$/);
  const missing = spawnSync(process.execPath, [LAUNCHER, "/nonexistent/bwrap"], { encoding: "utf8", ...AS });
  assert.is(missing.status, 127);
  assert.is(missing.stderr, "bwrap-launcher: cannot start /nonexistent/bwrap: spawn /nonexistent/bwrap ENOENT\n");
});

// Each names no pid the launcher may signal: SIGTERM goes to bwrap (which then ends the jail with it).
const NOT_A_JAIL_PID = ['{"child-pid": 1}', '{"child-pid": -2147483647}', '{"child-pid": 2.5}', '{"child-pid": "-2147483647"}', "{}", "not json"];

for (const info of NOT_A_JAIL_PID) {
  test(`--info-fd says ${info}: SIGTERM goes to bwrap, not to that pid`, async () => {
    const launched = launch([fakeBwrap(), "info", info]);
    await within(launched.line("ready"), "the fake bwrap's info", launched);
    launched.child.kill("SIGTERM");
    await within(launched.line("bwrap got TERM"), "SIGTERM reaching bwrap", launched);
    assert.is(await launched.exited, 0);
  });
}

test("a SIGTERM that comes before bwrap names the jail's pid waits for it, then reaches the jail (not bwrap)", async () => {
  const launched = launch([fakeBwrap(), "jail", ""]);
  await within(launched.line("started"), "the fake bwrap", launched);
  launched.child.kill("SIGTERM");
  launched.child.stdin!.end("go\n");
  await within(launched.line("jail got TERM"), "SIGTERM reaching the jail", launched);
  assert.is(await launched.exited, 0);
  assert.not.match(launched.stdout(), "bwrap got TERM");
});

test.run();
