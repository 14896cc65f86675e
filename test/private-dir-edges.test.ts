// The edges of the private-dir checks (issue 20: mutants `npm run mutate`
// found unkilled in private-dir.ts): symlink loops and dangling links among
// the ancestors, a file where a directory should be, a log name that is a
// hard link (which the open emptied before refusing it) or a FIFO (which
// hung the open), descriptors closed after a read, and what
// removeOwnedFiles does with a missing or emptied root.
import { spawnSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { freshLog } from "../src/backends/smolmachines/logs.js";
import { checkPrivateDir, makePrivateSubdir } from "../src/lib/private-dir.js";
import { readFileNoFollow, removeOwnedFiles } from "../src/lib/no-follow.js";
import { privateDirOutcome, TEST_DIR_SPEC } from "./helpers/private-dir.js";
import { tempDir } from "./helpers/tmp.js";

const LOGS = new URL("../src/backends/smolmachines/logs.js", import.meta.url).href;

test("an ancestor symlink of yours is followed: the dir behind it is checked and found", () => {
  const base = tempDir("bpe-");
  mkdirSync(join(base, "real", "p", "name"), { recursive: true, mode: 0o700 });
  symlinkSync(join(base, "real"), join(base, "link"));
  assert.is(privateDirOutcome(join(base, "link", "p", "name")), true);
});

test("an ancestor symlink to nothing: missing (false) without create, made behind the link with create", () => {
  const base = tempDir("bpe-");
  symlinkSync(join(base, "not-yet"), join(base, "link"));
  assert.is(privateDirOutcome(join(base, "link", "p", "name")), false);
  assert.not.ok(existsSync(join(base, "not-yet")));
  assert.is(privateDirOutcome(join(base, "link", "p", "name"), { create: true }), true);
  assert.ok(existsSync(join(base, "not-yet", "p", "name")));
});

test("a symlink loop among the ancestors is refused, not followed forever", () => {
  const base = tempDir("bpe-");
  symlinkSync(join(base, "b"), join(base, "a"));
  symlinkSync(join(base, "a"), join(base, "b"));
  const result = privateDirOutcome(join(base, "a", "p", "name"));
  assert.type(result, "string");
  assert.match(result as string, "goes through too many symlinks");
});

test("a regular file where an ancestor or a private level should be is refused: is not a directory", () => {
  const base = tempDir("bpe-");
  writeFileSync(join(base, "file"), "");
  assert.match(String(privateDirOutcome(join(base, "file", "p", "name"))), `${join(base, "file")} is not a directory`);
  mkdirSync(join(base, "q"), { mode: 0o700 });
  writeFileSync(join(base, "q", "name"), "", { mode: 0o600 });
  assert.match(String(privateDirOutcome(join(base, "q", "name"))), `${join(base, "q", "name")} is not a directory`);
});

test("a path with no more levels than bottle's own is a programming error", () => {
  assert.throws(() => checkPrivateDir("/onlyone", TEST_DIR_SPEC), /has fewer than 3 levels/);
});

function stageWithLogs(): string {
  const stage = join(tempDir("bpe-"), "stage");
  mkdirSync(join(stage, "logs"), { recursive: true, mode: 0o700 });
  return stage;
}

test("a log name that is a hard link to another file is refused and the file left whole (before issue 20 the open truncated it first)", () => {
  const stage = stageWithLogs();
  const victim = join(tempDir("bpe-v-"), "bashrc");
  writeFileSync(victim, "the user's file\n");
  linkSync(victim, join(stage, "logs", "pipelock.log"));
  assert.throws(() => freshLog(stage, "pipelock"), /refusing to write the log .*pipelock\.log: it is not a plain file of its own \(2 hard links\)/);
  assert.is(readFileSync(victim, "utf8"), "the user's file\n");
});

test("a log name that is a FIFO is refused, without blocking (before issue 20 the open waited for a reader forever)", () => {
  const stage = stageWithLogs();
  const fifo = join(stage, "logs", "gvproxy.log");
  assert.is(spawnSync("mkfifo", [fifo]).status, 0);
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", `import(${JSON.stringify(LOGS)}).then((m) => m.freshLog(${JSON.stringify(stage)}, "gvproxy")).catch((e) => console.log(e.message))`], { encoding: "utf8", timeout: 20_000 });
  assert.not.ok(run.error || run.signal, "freshLog blocked on the FIFO");
  assert.match(run.stdout, `refusing to write the log ${fifo}: it is not a plain file of its own (a FIFO)`);
});

test("readFileNoFollow closes every descriptor it opens, also when it refuses", () => {
  const dir = tempDir("bpe-");
  writeFileSync(join(dir, "plain"), "x");
  mkdirSync(join(dir, "directory"));
  const open = (): number => readdirSync("/proc/self/fd").length;
  const before = open();
  for (let i = 0; i < 20; i++) {
    assert.is(readFileNoFollow(join(dir, "plain")), "x");
    assert.throws(() => readFileNoFollow(join(dir, "directory")), /is not a regular file/);
  }
  assert.is(open(), before);
});

test("removeOwnedFiles: a root that does not exist is nothing to remove; an emptied root goes unless keepRoot", () => {
  const base = tempDir("bpe-");
  assert.equal(removeOwnedFiles(join(base, "gone"), () => "file"), []);
  for (const keepRoot of [false, true]) {
    const root = join(base, `root-${keepRoot}`);
    mkdirSync(root);
    writeFileSync(join(root, "supervisor.json"), "{}");
    assert.equal(removeOwnedFiles(root, () => "file", { keepRoot }), []);
    assert.is(existsSync(root), keepRoot, `keepRoot ${keepRoot}`);
  }
});

test("makePrivateSubdir refuses a symlink at the name, saying so", () => {
  const base = tempDir("bpe-");
  symlinkSync(tempDir("bpe-t-"), join(base, "logs"));
  assert.throws(() => makePrivateSubdir(join(base, "logs")), /refusing to use .*logs: it is a symlink, not a directory/);
});

test.run();
