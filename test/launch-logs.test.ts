// Logs in the stage dir are opened without following a symlink at their
// name, and the copy of gvproxy's log out of the run dir (which the jail can
// write) follows no symlink at either end. The supervisor hands a child the
// log bottle opened, never its path again (issue 15, point 8).
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { freshLog, saveLogCopy } from "../src/backends/smolmachines/logs.js";
import { Supervisor } from "../src/backends/smolmachines/process/supervisor.js";
import { tempDir } from "./helpers/tmp.js";

function stage(): string {
  const dir = join(tempDir("blg-"), "stage");
  mkdirSync(join(dir, "logs"), { recursive: true, mode: 0o700 });
  return dir;
}

function secret(): string {
  const path = join(tempDir("bls-"), "secret");
  writeFileSync(path, "the user's secret\n", { mode: 0o600 });
  return path;
}

test("freshLog makes an empty 0600 log, truncating an old one", () => {
  const dir = stage();
  writeFileSync(join(dir, "logs", "pipelock.log"), "old run\n");
  const { path, fd } = freshLog(dir, "pipelock");
  closeSync(fd);
  assert.is(readFileSync(path, "utf8"), "");
  assert.is(statSync(path).mode & 0o777, 0o600);
});

test("freshLog refuses a symlink at the log's name and leaves its target unchanged", () => {
  const dir = stage();
  const target = secret();
  symlinkSync(target, join(dir, "logs", "pipelock.log"));
  assert.throws(() => freshLog(dir, "pipelock"), /refusing to write the log .*pipelock\.log: it is a symlink/);
  assert.is(readFileSync(target, "utf8"), "the user's secret\n");
});

test("saveLogCopy copies a plain log; a symlink in the run dir's place is not followed (nothing copied), nor one at the destination", () => {
  const dir = stage();
  const run = tempDir("blr-");
  writeFileSync(join(run, "gvproxy.log"), "gvproxy says hi\n");
  saveLogCopy(join(run, "gvproxy.log"), dir, "gvproxy");
  assert.is(readFileSync(join(dir, "logs", "gvproxy.log"), "utf8"), "gvproxy says hi\n");

  const other = stage();
  const target = secret();
  symlinkSync(target, join(run, "jail.log"));
  assert.throws(() => saveLogCopy(join(run, "jail.log"), other, "jail"), /is a symlink/);
  assert.not.ok(existsSync(join(other, "logs", "jail.log")), "the secret was not copied into the stage");

  const victim = secret();
  symlinkSync(victim, join(other, "logs", "gvproxy.log"));
  assert.throws(() => saveLogCopy(join(run, "gvproxy.log"), other, "gvproxy"), /it is a symlink/);
  assert.is(readFileSync(victim, "utf8"), "the user's secret\n");
});

test("a log swapped for a symlink after bottle made it: the child writes to the file bottle opened, never through the link", async () => {
  const dir = stage();
  const log = freshLog(dir, "sidecar");
  const made = openSync(log.path, "r");
  // The race: between bottle's checked open and the child's start, the name becomes a link to a file of the user's.
  const target = secret();
  rmSync(log.path);
  symlinkSync(target, log.path);
  const supervisor = new Supervisor({ searchPath: "/usr/bin:/bin", cwd: dir });
  const child = await supervisor.start("sidecar", "/bin/sh", ["-c", "echo written-by-the-child"], { log });
  await child.exited;
  assert.is(readFileSync(target, "utf8"), "the user's secret\n", "the child wrote through the link");
  const buffer = Buffer.alloc(100);
  const read = readSync(made, buffer, 0, 100, 0);
  closeSync(made);
  assert.is(buffer.subarray(0, read).toString(), "written-by-the-child\n", "the child's output is in the log bottle made");
});

test.run();
