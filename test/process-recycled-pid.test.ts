// A recorded pid that now names another process (the recorded one died and
// the pid was reused) is never signalled, by any of bottle's killers, and
// never taken for the recorded launcher (issue 20). The "recycled" process
// is a live sleeper of this test's, recorded with a start time that is not
// its own: exactly what a reused pid looks like. Whether a killer signalled
// it is read from how it died: the test ends it with SIGTERM itself, so a
// SIGKILL sent earlier by the killer would show as the signal it died of.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { clearStale, launcherAlive, type LaunchRecord } from "../src/backends/smolmachines/launch-record.js";
import { killIfProven, killIfSame, LAUNCHER_MARK_ENV, launcherMark } from "../src/backends/smolmachines/process/identity.js";
import { isZombie, processStartTime } from "../src/lib/proc.js";
import { skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";

if (!existsSync("/proc/self/stat")) {
  skipSuite("process-recycled-pid", "needs Linux /proc (process start times)");
  process.exit(0);
}

const launcher = { pid: process.pid, startTime: processStartTime(process.pid) };

// Live until killed: a failed test's sleepers would keep this suite from exiting.
const sleepers = new Set<ChildProcess>();
test.after(() => {
  for (const child of sleepers) child.kill("SIGKILL");
});

interface Sleeper {
  child: ChildProcess;
  pid: number;
  startTime: string;
  /** The signal it died of. */
  died: Promise<NodeJS.Signals | null>;
}

/** A live process of ours leading its own group, carrying this launcher's mark (so only its start time tells it apart). */
function sleeper(): Sleeper {
  const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore", env: { PATH: process.env.PATH, [LAUNCHER_MARK_ENV]: launcherMark(launcher) } });
  sleepers.add(child);
  child.once("exit", () => sleepers.delete(child));
  const pid = child.pid!;
  const startTime = processStartTime(pid);
  assert.ok(startTime, "the sleeper's start time");
  return { child, pid, startTime, died: new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal))) };
}

/** What the reused pid's recorded start time would be: another process's, earlier. */
function otherStartTime(s: Sleeper): string {
  return String(Number(s.startTime) - 1);
}

/** Ends the sleeper with SIGTERM and says what it died of: SIGKILL if a killer got there first. */
async function diedOf(s: Sleeper): Promise<NodeJS.Signals | null> {
  s.child.kill("SIGTERM");
  return s.died;
}

test("killIfSame: a live process whose start time is not the recorded one is not signalled", async () => {
  const s = sleeper();
  assert.is(killIfSame(s.pid, otherStartTime(s)), false);
  assert.is(await diedOf(s), "SIGTERM", "killIfSame killed a reused pid");
});

test("killIfSame: no recorded start time proves nothing; the process is not signalled", async () => {
  const s = sleeper();
  assert.is(killIfSame(s.pid, null), false);
  assert.is(await diedOf(s), "SIGTERM");
});

test("killIfSame: no recorded start time, and the recorded process gone: the group it led (still alive) is not signalled", async () => {
  // A group leader that exits leaves its group behind: a shell that started a sleeper and returned.
  const pidFile = join(tempDir("brp-group-"), "member");
  const leader = spawn("sh", ["-c", `sleep 300 & echo $! > '${pidFile}'`], { detached: true, stdio: "ignore" });
  await new Promise((resolve) => leader.once("exit", resolve));
  const member = Number(readFileSync(pidFile, "utf8").trim());
  assert.ok(Number.isInteger(member) && member > 0);
  try {
    assert.is(processStartTime(leader.pid!), null, "the leader is gone (reaped)");
    assert.is(killIfSame(leader.pid!, null), false);
    assert.ok(processStartTime(member) !== null && !isZombie(member), "killIfSame killed the gone leader's group");
  } finally {
    process.kill(member, "SIGKILL");
  }
});

test("killIfSame: the recorded process itself (same start time) is killed, with its group", async () => {
  const s = sleeper();
  assert.is(killIfSame(s.pid, s.startTime), true);
  assert.is(await s.died, "SIGKILL");
});

test("killIfProven: the launcher's mark but another start time (a reused pid) is not enough", async () => {
  const s = sleeper();
  assert.is(killIfProven({ pid: s.pid, startTime: otherStartTime(s) }, launcher), false);
  assert.is(await diedOf(s), "SIGTERM");
  const proven = sleeper();
  assert.is(killIfProven({ pid: proven.pid, startTime: proven.startTime }, launcher), true);
  assert.is(await proven.died, "SIGKILL");
});

test("clearStale: a stale record's child whose pid was reused is neither killed nor reported", async () => {
  const s = sleeper();
  const runDir = join(tempDir("brp-"), "run");
  mkdirSync(runDir, { mode: 0o700 });
  const record = staleRecord({ gvproxy: { pid: s.pid, startTime: otherStartTime(s) } });
  const cleaned = clearStale(runDir, record);
  assert.not.ok(cleaned.some((line) => line.includes(String(s.pid))), cleaned.join("\n"));
  assert.is(await diedOf(s), "SIGTERM", "clearStale killed a reused pid");
});

test("launcherAlive: a live process on the recorded launcher pid, with another start time, is not the launcher", async () => {
  const s = sleeper();
  assert.is(launcherAlive({ ...staleRecord({}), pid: s.pid, pidStartTime: otherStartTime(s) }), false);
  assert.is(launcherAlive({ ...staleRecord({}), pid: s.pid, pidStartTime: s.startTime }), true);
  await diedOf(s);
});

function staleRecord(children: LaunchRecord["children"]): LaunchRecord {
  return {
    pid: launcher.pid,
    pidStartTime: launcher.startTime,
    slug: "demo",
    stageDir: "/nonexistent/stage",
    configPath: "/nonexistent/bottle.config.ts",
    octet: 7,
    ports: {},
    children,
    startedAt: 0,
    control: "/nonexistent/control.sock",
  };
}

test.run();
