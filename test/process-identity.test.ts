// What process identity reads from /proc and whom it signals (the mutants
// `npm run mutate` found unkilled in identity.ts, issue 20):
// - the start time is field 22 of /proc/PID/stat, checked against what ps
//   computes from the same kernel value (not against the module itself),
//   for a command name full of spaces and parentheses too;
// - a pid that is gone has no start time and is signalled by no one;
// - a zombie is told apart from a live process;
// - killIfSame kills the recorded process's whole group, and a process that
//   leads no group is still killed;
// - the launcher's mark is set and inherited, and provenChild accepts only a
//   process of yours with known start times on both sides.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  killIfSame,
  LAUNCHER_MARK_ENV,
  launcherMark,
  markSelfAsLauncher,
  provenChild,
  signalGroup,
} from "../src/backends/smolmachines/process/identity.js";
import { isZombie, processStartTime } from "../src/lib/proc.js";
import { skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";
import { makeUser, otherUsersUnavailable } from "./helpers/users.js";

if (!existsSync("/proc/self/stat")) {
  skipSuite("process-identity", "needs Linux /proc");
  process.exit(0);
}

const children = new Set<ChildProcess>();
test.after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** The process's state letter, read here (R, S, Z...); null when it is gone. */
function state(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/** Resolves once `done()` holds: a process state the kernel changes with no event to wait on, so it is polled (10 s at most, a safety net). */
async function until(done: () => boolean, what: string): Promise<void> {
  const giveUp = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The first line `child` prints. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    child.once("exit", () => reject(new Error(`exited before printing a line: ${out}`)));
  });
}

/** Seconds since the epoch the process started, as ps computes it (btime + start ticks / CLK_TCK). */
function psStartSeconds(pid: number): number {
  const ps = spawnSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8", env: { PATH: process.env.PATH, LC_ALL: "C", TZ: "UTC" } });
  assert.is(ps.status, 0, ps.stderr);
  return Date.parse(`${ps.stdout.trim()} UTC`) / 1000;
}

function identitySeconds(pid: number): number {
  const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))![1]);
  const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim());
  return btime + Number(processStartTime(pid)) / ticks;
}

test("the start time is the kernel's (field 22 of /proc/PID/stat), also for a command name with spaces and parentheses", async () => {
  // ps reads the same field and prints it as a date, to the second.
  assert.ok(Math.abs(identitySeconds(process.pid) - psStartSeconds(process.pid)) <= 1, `${identitySeconds(process.pid)} vs ${psStartSeconds(process.pid)}`);
  const odd = join(tempDir("bpi-"), "a) 1 2 (b");
  copyFileSync("/bin/sleep", odd);
  spawnSync("chmod", ["755", odd]);
  const child = track(spawn(odd, ["300"], { stdio: "ignore" }));
  await until(() => readFileSync(`/proc/${child.pid}/stat`, "utf8").includes("(a) 1 2 (b)"), "the odd name to show in /proc");
  assert.ok(Math.abs(identitySeconds(child.pid!) - psStartSeconds(child.pid!)) <= 1, `${identitySeconds(child.pid!)} vs ${psStartSeconds(child.pid!)}`);
  assert.ok(Number(processStartTime(child.pid!)) >= Number(processStartTime(process.pid)), "a child starts after its parent");
});

test("a pid that is gone: no start time, not a zombie, and nothing signals it", async () => {
  const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  const pid = Number(gone.stdout.trim());
  assert.is(state(pid), null, "the pid was reused already");
  assert.is(processStartTime(pid), null);
  assert.is(isZombie(pid), false);
  assert.is(killIfSame(pid, "12345"), false);
  assert.is(signalGroup(pid, "SIGKILL"), false);
});

test("a zombie (exited, not reaped) is one; a running process is not", async () => {
  // The forked child exits at once and stays a zombie: its parent never reaps it.
  const parent = track(spawn("perl", ["-e", '$| = 1; my $pid = fork(); exit 0 if $pid == 0; print "$pid\\n"; sleep 300;'], { stdio: ["ignore", "pipe", "ignore"] }));
  const zombie = Number(await firstLine(parent));
  await until(() => state(zombie) === "Z", "the child to become a zombie");
  assert.is(isZombie(zombie), true);
  assert.is(isZombie(parent.pid!), false);
  assert.is(isZombie(process.pid), false);
});

test("killIfSame kills the recorded process's whole group", async () => {
  const leader = track(spawn("sh", ["-c", "sleep 300 & echo $!; wait"], { detached: true, stdio: ["ignore", "pipe", "ignore"] }));
  const member = Number(await firstLine(leader));
  const died = new Promise<NodeJS.Signals | null>((resolve) => leader.once("exit", (_code, signal) => resolve(signal)));
  assert.is(killIfSame(leader.pid!, processStartTime(leader.pid!)), true);
  assert.is(await died, "SIGKILL");
  await until(() => state(member) === null || state(member) === "Z", "the group member to die");
});

test("killIfSame kills a recorded process that leads no group (the group signal fails, the process signal does not)", async () => {
  const child = track(spawn("sleep", ["300"], { stdio: "ignore" }));
  const died = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  assert.is(killIfSame(child.pid!, processStartTime(child.pid!)), true);
  assert.is(await died, "SIGKILL");
});

test("markSelfAsLauncher puts <pid>:<start time> in the environment, and what it starts afterwards carries it", async () => {
  const before = process.env[LAUNCHER_MARK_ENV];
  try {
    markSelfAsLauncher();
    assert.is(process.env[LAUNCHER_MARK_ENV], `${process.pid}:${processStartTime(process.pid)}`);
    const child = track(spawn("sleep", ["300"], { stdio: "ignore" }));
    assert.ok(readFileSync(`/proc/${child.pid}/environ`, "utf8").split("\0").includes(`BOTTLE_LAUNCHER=${process.pid}:${processStartTime(process.pid)}`));
    assert.ok(provenChild({ pid: child.pid!, startTime: processStartTime(child.pid!) }, { pid: process.pid, startTime: processStartTime(process.pid) }));
    child.kill("SIGKILL");
  } finally {
    if (before === undefined) delete process.env[LAUNCHER_MARK_ENV];
    else process.env[LAUNCHER_MARK_ENV] = before;
  }
});

test("provenChild: no start time on either side proves nothing, whatever mark the process carries", () => {
  const launcher = { pid: process.pid, startTime: processStartTime(process.pid) };
  const unknownLauncher = { pid: process.pid, startTime: null };
  for (const [mark, launcherId] of [
    [launcherMark(launcher), { pid: process.pid, startTime: launcher.startTime }],
    [launcherMark(unknownLauncher), unknownLauncher],
  ] as const) {
    const child = track(spawn("sleep", ["300"], { stdio: "ignore", env: { PATH: process.env.PATH, [LAUNCHER_MARK_ENV]: mark } }));
    const start = processStartTime(child.pid!);
    if (launcherId.startTime === null) assert.not.ok(provenChild({ pid: child.pid!, startTime: start }, launcherId), `launcher without a start time, child marked ${mark}`);
    else {
      assert.ok(provenChild({ pid: child.pid!, startTime: start }, launcherId), "the control: both start times known");
      assert.not.ok(provenChild({ pid: child.pid!, startTime: null }, launcherId), "child without a start time");
    }
    child.kill("SIGKILL");
  }
});

const noOtherUser = otherUsersUnavailable();
if (noOtherUser) skipSuite("process-identity (another user's process)", noOtherUser);

(noOtherUser ? test.skip : test)("provenChild: another user's process carrying the launcher's mark is not yours", () => {
  const other = makeUser("bpiother");
  const launcher = { pid: process.pid, startTime: processStartTime(process.pid) };
  const child = track(spawn("sleep", ["300"], { stdio: "ignore", uid: other.uid, gid: other.gid, env: { PATH: process.env.PATH, [LAUNCHER_MARK_ENV]: launcherMark(launcher) } }));
  assert.not.ok(provenChild({ pid: child.pid!, startTime: processStartTime(child.pid!) }, launcher));
  child.kill("SIGKILL");
});

test.run();
