import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { build, newWorld, reasonsOf, statusOf, task } from "./helpers/graph.js";
import { tempDir } from "./helpers/tmp.js";
import { tempFileTarget, tempPathFor } from "../src/lib/atomic-write.js";

const pair = () => [task("render", { output: "gvproxy.yaml" }), task("use", { needs: ["render"] })];

test("an edited output makes its task run again and the file is restored", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, pair(), world);
  const path = join(root, "gvproxy.yaml");
  const original = readFileSync(path, "utf8");
  // Same size, written within the same clock tick as the build: the stat
  // fast path alone could miss this edit.
  writeFileSync(path, original.replace(/.$/, "X"));
  const { ran, events } = await build(root, pair(), world);
  assert.equal(ran, ["render"]);
  assert.equal(reasonsOf(events, "render"), ["output `gvproxy.yaml` was modified"]);
  assert.is(readFileSync(path, "utf8"), original);
});

test("a deleted output makes its task run again; the same content keeps dependents fresh", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, pair(), world);
  unlinkSync(join(root, "gvproxy.yaml"));
  const { ran, events } = await build(root, pair(), world);
  assert.equal(ran, ["render"]);
  assert.equal(reasonsOf(events, "render"), ["output `gvproxy.yaml` was deleted"]);
  assert.is(statusOf(events, "use"), "fresh");
});

test("an output whose mode was loosened is rewritten with its own mode", async () => {
  const root = tempDir();
  const world = newWorld();
  await build(root, pair(), world);
  const path = join(root, "gvproxy.yaml");
  assert.is(statSync(path).mode & 0o777, 0o600);
  chmodSync(path, 0o644);
  const { ran, events } = await build(root, pair(), world);
  assert.equal(ran, ["render"]);
  assert.equal(reasonsOf(events, "render"), ["output `gvproxy.yaml` has mode 0644, not 0600"]);
  assert.is(statSync(path).mode & 0o777, 0o600);
});

test("a task may choose its output's mode", async () => {
  const root = tempDir();
  const script = task("script", {
    writes: () => ["guest/net-up.sh"],
    run: (run) => {
      run.write("guest/net-up.sh", "#!/bin/sh\n", { mode: 0o755 });
      return null;
    },
  });
  await build(root, [script], newWorld());
  assert.is(statSync(join(root, "guest/net-up.sh")).mode & 0o777, 0o755);
  assert.is(statSync(join(root, "guest")).mode & 0o777, 0o700);
});

test("writing a file the task did not declare fails the task", async () => {
  const root = tempDir();
  const sneaky = task("sneaky", {
    writes: () => ["declared.txt"],
    run: (run) => {
      run.write("declared.txt", "ok");
      run.write("other.txt", "not declared");
      return null;
    },
  });
  const { result } = await build(root, [sneaky], newWorld());
  assert.is(result.outcomes.sneaky, "failed");
  assert.is(result.failures.sneaky?.reason, "undeclared-write");
  assert.match(result.failures.sneaky!.message, "`other.txt`");
  assert.not.ok(existsSync(join(root, "other.txt")));
});

test("a task that does not write a declared output fails", async () => {
  const root = tempDir();
  const lazy = task("lazy", { writes: () => ["a.txt", "b.txt"], run: (run) => (run.write("a.txt", "x"), null) });
  const { result } = await build(root, [lazy], newWorld());
  assert.is(result.failures.lazy?.reason, "missing-output");
  assert.match(result.failures.lazy!.message, "`b.txt`");
});

test("an output the task no longer declares is removed when it runs", async () => {
  const root = tempDir();
  const world = newWorld();
  const withCopy = (copy: boolean) =>
    task("guest", {
      inputs: () => ({ copy }),
      writes: () => (copy ? ["net-up.sh", "gvforwarder"] : ["net-up.sh"]),
      run: (run) => {
        run.write("net-up.sh", "x");
        if (copy) run.write("gvforwarder", "binary");
        return null;
      },
    });
  await build(root, [withCopy(true)], world);
  assert.ok(existsSync(join(root, "gvforwarder")));
  await build(root, [withCopy(false)], world);
  assert.not.ok(existsSync(join(root, "gvforwarder")));
  assert.ok(existsSync(join(root, "net-up.sh")));
});

test("writes leave no temp files behind", async () => {
  const root = tempDir();
  await build(root, pair(), newWorld());
  assert.equal(readdirSync(root).filter((f) => f.includes("bottle-tmp")), []);
});

test("a read file that changes while the task runs is not recorded as fresh", async () => {
  const root = tempDir();
  const src = join(tempDir(), "input.txt");
  writeFileSync(src, "before");
  const world = newWorld();
  let edit = true;
  const reader = task("reader", {
    reads: () => [src],
    run: (run) => {
      run.ctx.runs.push("reader");
      if (edit) writeFileSync(src, "edited during the run");
      return null;
    },
  });
  const first = await build(root, [reader], world);
  const ranEvent = first.events.find((e) => e.type === "task" && e.task === "reader");
  assert.match(ranEvent?.type === "task" ? ranEvent.note ?? "" : "", "changed while it ran");
  edit = false;
  const second = await build(root, [reader], world);
  assert.equal(second.ran, ["reader"]);
  assert.equal(reasonsOf(second.events, "reader"), [`file \`${src}\` changed while it last ran`, `file \`${src}\` changed`]);
  const third = await build(root, [reader], world);
  assert.equal(third.ran, []);
});

test("tempFileTarget names the file a tempPathFor temp file was made for (what `rm` may delete), and nothing else", () => {
  assert.is(tempFileTarget(basename(tempPathFor("/stage/pipelock.yaml"))), "pipelock.yaml");
  assert.is(tempFileTarget(basename(tempPathFor("/stage/.lock"))), ".lock");
  for (const other of ["pipelock.yaml", ".pipelock.yaml.tmp", ".pipelock.yaml.12-ab.bottle-tmp.x"]) assert.is(tempFileTarget(other), null, other);
});

test.run();
