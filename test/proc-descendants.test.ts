// What /proc says about a process tree (src/lib/proc.ts): descendants()
// finds every process under a pid, children and grandchildren, and nothing
// else (the jail's teardown signals each one it finds, so a miss leaves a
// process running and an extra one kills a stranger); parentPid() of a pid
// that is gone is null, not an error (a process may exit while the tree is
// read). Mutants of issue 20's `npm run mutate` left alive in descendants().
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { descendants, parentPid } from "../src/lib/proc.js";
import { skipSuite } from "./helpers/skip.js";

if (!existsSync("/proc/self/stat")) {
  skipSuite("proc-descendants", "needs Linux /proc");
  process.exit(0);
}

const trees = new Set<ChildProcess>();
test.after(() => {
  // Each tree leads its own group: the group signal ends the sleepers too.
  for (const child of trees) process.kill(-child.pid!, "SIGKILL");
});

/**
 * sh ─┬─ sleep
 *     └─ sh ── sleep
 * Resolves once each shell has printed the pids it started (so all four exist).
 */
async function tree(): Promise<{ root: number; below: number[] }> {
  const child = spawn("sh", ["-c", `sleep 300 & echo $!; sh -c 'sleep 300 & echo $!; wait' & echo $!; wait`], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  trees.add(child);
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split("\n").filter(Boolean).length === 3) resolve();
    });
    child.once("exit", () => reject(new Error(`the tree's shell exited early: ${out}`)));
  });
  return { root: child.pid!, below: out.split("\n").filter(Boolean).map(Number) };
}

const numerically = (a: number, b: number) => a - b;

test("descendants: the children and grandchildren of a process, and nothing else", async () => {
  const { root, below } = await tree();
  assert.is(below.length, 3);
  assert.equal(descendants(root).sort(numerically), [...below].sort(numerically));
});

test("descendants: a process with no children has none; the tree's leaves are found under their own parent only", async () => {
  const { below } = await tree();
  const leaves = below.filter((pid) => descendants(pid).length === 0);
  assert.is(leaves.length, 2, "two sleepers, each a leaf");
  const middle = below.find((pid) => !leaves.includes(pid))!;
  assert.equal(descendants(middle).length, 1);
  assert.ok(leaves.includes(descendants(middle)[0]!));
});

test("parentPid: the parent of a child of ours; null for a pid that is gone", async () => {
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  const pid = child.pid!;
  assert.is(parentPid(pid), process.pid);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited; // reaped: the pid names nothing now
  assert.is(parentPid(pid), null);
});

test.run();
