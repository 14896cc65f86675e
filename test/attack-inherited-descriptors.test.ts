// Issue 15, point 6: a descriptor the shell that ran `bottle launch` left
// open (a secret file on fd 40) was inherited by every child, the jail
// included: Node marks only its own descriptors close-on-exec. bottle closes
// every inherited descriptor above 2 when it starts, so no process of the
// launch holds it. (jail-isolation reads it from inside the real jail.)
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describe, freshFakes, hangMarker, makeProject, runBottle, startBottle, waitForMarker } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("inherit-fd");

/** `pid` and every process under it. */
function tree(pid: number): number[] {
  const found = [pid];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = "";
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
    } catch {
      continue;
    }
    for (const child of children ? children.split(" ") : []) found.push(...tree(Number(child)));
  }
  return found;
}

/** Which of `pids` hold `path` open, as "pid (command): fd". */
function holders(pids: readonly number[], path: string): string[] {
  const found: string[] = [];
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) found.push(`${pid} (${readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]}): fd ${fd}`);
      } catch {
        // closed meanwhile
      }
    }
  }
  return found;
}

test("a secret file open on fd 40 when bottle launches is held by no process of the launch", async () => {
  freshFakes(project);
  const secret = join(tempDir("bif-"), "secret");
  writeFileSync(secret, "inherited, not for any child\n", { mode: 0o600 });
  const fd = openSync(secret, "r");
  const launcher = startBottle(project, ["launch"], { env: { FAKE_HANG: "smolvm:exec" }, inherit: { 40: fd } });
  closeSync(fd);
  try {
    await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
    const pids = tree(launcher.pid);
    // bottle, pipelock, the jail (launcher, bwrap, relay, gvproxy) and the attached smolvm exec
    assert.ok(pids.length >= 6, `processes: ${pids.join(", ")}`);
    assert.equal(holders(pids, secret), [], "processes holding the inherited secret");
  } finally {
    await runBottle(project, ["stop", project.name]);
  }
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
});

test.run();
