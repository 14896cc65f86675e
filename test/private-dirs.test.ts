// The rules of the one private-dir check (src/private-dir.ts) that the run
// dir, the stage dir and the registry go through, the deletion of known
// names only, and the proof that a recorded child is the launcher's.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LAUNCHER_MARK_ENV, launcherMark, provenChild } from "../src/backends/smolmachines/process/identity.js";
import { checkPrivateDir, type PrivateDirSpec } from "../src/lib/private-dir.js";
import { tempDir } from "./helpers/tmp.js";
import { processStartTime } from "../src/lib/proc.js";
import { removeOwnedFiles } from "../src/lib/no-follow.js";
import { ownedInRunDir } from "../src/backends/smolmachines/run-dir.js";
import { ownedInStageDir } from "../src/backends/smolmachines/stage-dir.js";

const spec: PrivateDirSpec = { what: "test dir", privateLevels: 2, subdirs: ["relays"], fix: "the fix" };
const root = process.getuid?.() === 0;

function refusal(dir: string, extra: Partial<PrivateDirSpec> = {}): string {
  try {
    checkPrivateDir(dir, { ...spec, ...extra });
  } catch (error) {
    return (error as Error).message;
  }
  return "accepted";
}

test("missing levels: false without create; with create every level is made 0700", () => {
  const base = tempDir("bpd-");
  const dir = join(base, "a", "b", "c");
  assert.is(checkPrivateDir(dir, spec), false);
  assert.not.ok(existsSync(join(base, "a")), "nothing made without create");
  assert.is(checkPrivateDir(dir, { ...spec, create: true }), true);
  for (const level of [join(base, "a"), join(base, "a", "b"), dir]) assert.is(statSync(level).mode & 0o777, 0o700, level);
});

test("bottle's own levels: a symlink, group or other bits, or a symlinked sub-dir are refused", () => {
  const base = tempDir("bpd-");
  const real = join(base, "real");
  mkdirSync(join(base, "p"), { mode: 0o700 });
  mkdirSync(real, { mode: 0o700 });
  symlinkSync(real, join(base, "p", "name"));
  assert.match(refusal(join(base, "p", "name")), `${join(base, "p", "name")} is a symlink, not a directory`);

  const dir = join(base, "q", "name");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o750);
  assert.match(refusal(dir), `${dir} has mode 0750`);
  chmodSync(dir, 0o700);
  chmodSync(join(base, "q"), 0o701);
  assert.match(refusal(dir), `${join(base, "q")} has mode 0701`);
  chmodSync(join(base, "q"), 0o700);
  symlinkSync(real, join(dir, "relays"));
  assert.match(refusal(dir), `${join(dir, "relays")} is a symlink`);
});

test("ancestors: sticky and world-writable (like /tmp) is fine; world-writable without the sticky bit is refused", () => {
  const shared = tempDir("bpd-");
  chmodSync(shared, 0o1777);
  assert.is(refusal(join(shared, "x", "y"), { create: true }), "accepted");
  const open = tempDir("bpd-");
  chmodSync(open, 0o777);
  assert.match(refusal(join(open, "x", "y")), `${open} is writable by every user (mode 0777) and not sticky`);
});

(root ? test : test.skip)("ownership: a private level or an ancestor of another user, a group-writable ancestor of another group, a symlink ancestor of another user: refused", () => {
  const base = tempDir("bpd-");
  const dir = join(base, "p", "name");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, 65534, 65534);
  assert.match(refusal(dir), `${dir} belongs to uid 65534, not to you (uid 0)`);
  chownSync(dir, 0, 0);

  const ancestor = join(base, "anc");
  mkdirSync(join(ancestor, "p", "name"), { recursive: true, mode: 0o700 });
  chownSync(ancestor, 65534, 65534);
  assert.match(refusal(join(ancestor, "p", "name")), `${ancestor} belongs to uid 65534, not to you (uid 0) or root`);
  chownSync(ancestor, 0, 65534);
  chmodSync(ancestor, 0o770);
  assert.match(refusal(join(ancestor, "p", "name")), `${ancestor} is writable by its group (gid 65534, mode 0770)`);
  chownSync(ancestor, 0, process.getgid!());
  assert.is(refusal(join(ancestor, "p", "name")), "accepted", "group-writable by your own primary group is fine");

  const link = join(base, "link");
  symlinkSync(ancestor, link);
  assert.is(refusal(join(link, "p", "name")), "accepted", "a symlink of yours is followed");
  lchownSync(link, 65534, 65534);
  assert.match(refusal(join(link, "p", "name")), `${link} is a symlink owned by uid 65534`);
});

test("removeOwnedFiles deletes only known names, a symlink at a known name itself (not its target), and keeps the rest", () => {
  const run = tempDir("bpd-");
  const elsewhere = tempDir("bpd-");
  writeFileSync(join(elsewhere, "precious"), "mine\n");
  mkdirSync(join(run, "relays"));
  mkdirSync(join(run, "jail"));
  writeFileSync(join(run, "supervisor.json"), "{}");
  writeFileSync(join(run, "relays", "4000.sock"), "");
  writeFileSync(join(run, "jail", "gvproxy.pid"), "1");
  writeFileSync(join(run, "notes"), "mine\n");
  symlinkSync(join(elsewhere, "precious"), join(run, "gvproxy.log"));
  symlinkSync(elsewhere, join(run, "jail", "relays"));
  const kept = removeOwnedFiles(run, ownedInRunDir);
  assert.equal(kept.sort(), [join(run, "jail", "relays"), join(run, "notes")]);
  assert.is(readFileSync(join(elsewhere, "precious"), "utf8"), "mine\n");
  assert.ok(existsSync(join(run, "notes")));
  assert.not.ok(existsSync(join(run, "supervisor.json")));
  assert.not.ok(existsSync(join(run, "relays")));
});

test("removeOwnedFiles takes the git gate's mirrors whole (links inside unlinked, not followed) and keeps other names under git/", () => {
  const stage = tempDir("bpd-");
  const elsewhere = tempDir("bpd-");
  writeFileSync(join(elsewhere, "precious"), "mine\n");
  mkdirSync(join(stage, "git", "origin.git", "objects", "ab"), { recursive: true });
  writeFileSync(join(stage, "git", "origin.git", "objects", "ab", "cdef"), "blob");
  writeFileSync(join(stage, "git", "origin.git", "HEAD"), "ref: refs/heads/main\n");
  symlinkSync(elsewhere, join(stage, "git", "origin.git", "objects", "info"));
  mkdirSync(join(stage, "git", "Not A Mirror"));
  const kept = removeOwnedFiles(stage, ownedInStageDir);
  assert.equal(kept, [join(stage, "git", "Not A Mirror")]);
  assert.not.ok(existsSync(join(stage, "git", "origin.git")));
  assert.is(readFileSync(join(elsewhere, "precious"), "utf8"), "mine\n");
});

function sleeper(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn("sleep", ["60"], { env, stdio: "ignore", detached: true });
  child.unref();
  process.on("exit", () => child.kill("SIGKILL"));
  return child;
}

(existsSync("/proc/self/environ") ? test : test.skip)("provenChild: only a process of yours, with the same start time, started with the launcher's mark", () => {
  const launcher = { pid: process.pid, startTime: processStartTime(process.pid) };
  const marked = sleeper({ PATH: process.env.PATH, [LAUNCHER_MARK_ENV]: launcherMark(launcher) });
  const other = sleeper({ PATH: process.env.PATH, [LAUNCHER_MARK_ENV]: launcherMark({ pid: launcher.pid, startTime: "1" }) });
  const plain = sleeper({ PATH: process.env.PATH });
  const id = (child: ChildProcess) => ({ pid: child.pid!, startTime: processStartTime(child.pid!) });
  assert.ok(provenChild(id(marked), launcher));
  assert.not.ok(provenChild(id(other), launcher), "another launcher's mark");
  assert.not.ok(provenChild(id(plain), launcher), "no mark");
  assert.not.ok(provenChild({ pid: marked.pid!, startTime: "1" }, launcher), "another start time (a reused pid)");
  for (const child of [marked, other, plain]) child.kill("SIGKILL");
});

test.run();
