// Issue 9, point 4: guest.gvforwarder is copied into the stage's guest/,
// which the guest mounts. A gvforwarder inside a writable workspace is
// refused (the guest could repoint it), and the copy opens the file without
// following a symlink, so a swapped-in link to a private host file copies
// nothing.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { makeProject, runBottle, validConfig } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const SECRET = "host-private-key-material-7f3a";

function guestDirContents(project: string): string {
  const dir = join(project, ".bottle", "demo", "guest");
  if (!existsSync(dir)) return "";
  return readdirSync(dir).map((name) => readFileSync(join(dir, name), "latin1")).join("\n");
}

test("a gvforwarder inside the writable workspace is refused, naming guest.gvforwarder", () => {
  const workspace = tempDir("bottle-ws-");
  writeFileSync(join(workspace, "gvforwarder"), "#!/bin/sh\n");
  const outside = join(tempDir("bottle-bin-"), "gvforwarder");
  writeFileSync(outside, "#!/bin/sh\n");
  // As a file in the workspace, and as a link in the workspace to a binary outside it.
  symlinkSync(outside, join(workspace, "gvforwarder-link"));
  for (const name of ["gvforwarder", "gvforwarder-link"]) {
    const project = makeProject({ ...validConfig(), workspace: { host: workspace, guest: "/w" }, guest: { gvforwarder: join(workspace, name) } });
    const run = runBottle(["build"], { cwd: project });
    assert.is(run.code, 2, run.stderr);
    assert.match(run.stderr, `guest.gvforwarder: the guest could swap the binary`);
    assert.match(run.stderr, join(workspace, name));
    assert.not.ok(existsSync(join(project, ".bottle")), "nothing rendered");
  }
});

test("a gvforwarder replaced by a symlink to a 0600 host file: the build fails naming it, guest/ never gets the content", () => {
  const bin = tempDir("bottle-bin-");
  const forwarder = join(bin, "gvforwarder");
  writeFileSync(forwarder, "#!/bin/sh\necho forwarder\n");
  const secret = join(tempDir("bottle-secret-"), "id_ed25519");
  writeFileSync(secret, SECRET);
  chmodSync(secret, 0o600);
  const project = makeProject({ ...validConfig(), guest: { gvforwarder: forwarder } });
  const first = runBottle(["build"], { cwd: project });
  assert.is(first.code, 0, first.stderr);
  assert.match(guestDirContents(project), "echo forwarder");

  rmSync(forwarder);
  symlinkSync(secret, forwarder);
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout + run.stderr, `guest.gvforwarder: ${forwarder} is a symlink`);
  assert.not.match(guestDirContents(project), SECRET);
});

test("a FIFO in gvforwarder's place is refused without hanging", () => {
  const bin = tempDir("bottle-bin-");
  const forwarder = join(bin, "gvforwarder");
  if (spawnSync("mkfifo", [forwarder]).status !== 0) {
    skipSuite("guest-gvforwarder-symlink (FIFO)", "mkfifo unavailable");
    return;
  }
  const project = makeProject({ ...validConfig(), guest: { gvforwarder: forwarder } });
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout + run.stderr, `guest.gvforwarder: ${forwarder} is not a regular file`);
});

test.run();
