// The stamp (state.stamp): a no-op run whose stamp still holds decides
// every task from it without reading state.json, and every change the full
// check would see makes it read the state and run what it must.
//
// File stamps taken within 1 s of a file's change are racy and never go in
// the stamp, and a test's files are always that young. So a test first lets
// a run happen "later": Date.now is moved 2 s ahead for that run, as if the
// user came back after a pause; that run re-hashes the racy files and
// writes a stamp the next run can use.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { planGraph, runGraph, STAMP_FILE, STATE_FILE, type TaskDef } from "../src/graph/index.js";
import { build, newWorld, reasonsOf, statusOf, task, type World } from "./helpers/graph.js";
import { tempDir } from "./helpers/tmp.js";

/** Runs `fn` as if 2 s had passed: every file stamp it takes is past the racy window. */
async function later<T>(fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + 2000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

/** Rewrites `path` with `content` and puts its mtime back to the nanosecond (touch -r), as an editor or a restore might. */
function rewriteKeepingMtime(path: string, content: string): void {
  const reference = `${path}.times`;
  writeFileSync(reference, "");
  execFileSync("touch", ["-r", path, reference]);
  writeFileSync(path, content);
  execFileSync("touch", ["-r", reference, path]);
  unlinkSync(reference);
}

/** `render` reads input.txt (outside the stage) and writes out.txt; `use` needs it. */
function graph(input: string, extra: { renderVersion?: number; useNeeds?: string[]; reads?: string[] } = {}): TaskDef<World>[] {
  return [
    task("render", {
      version: extra.renderVersion ?? 1,
      reads: () => extra.reads ?? [input],
      writes: () => ["out.txt"],
      run: (run) => {
        run.ctx.runs.push("render");
        const text = existsSync(input) ? readFileSync(input, "utf8") : "";
        run.write("out.txt", text.toUpperCase());
        return text;
      },
    }),
    task("other", { output: "other.txt" }),
    task("use", { needs: extra.useNeeds ?? ["render"] }),
  ];
}

/** A stage built, settled and stamped: the next no-op run would read no state. */
async function stamped(): Promise<{ root: string; input: string; world: World }> {
  const root = tempDir();
  const input = join(tempDir("stamp-input-"), "input.txt");
  writeFileSync(input, "hello\n");
  const world = newWorld();
  await build(root, graph(input), world);
  await later(() => build(root, graph(input), world));
  assert.ok(existsSync(join(root, STAMP_FILE)), "the settled run wrote a stamp");
  return { root, input, world };
}

test("a no-op run whose stamp holds reads no state, runs nothing and returns every result", async () => {
  const { root, input, world } = await stamped();
  const { result, events, ran } = await build(root, graph(input), world);
  assert.is(result.stateRead, false);
  assert.equal(ran, []);
  assert.equal(result.summary, { ...result.summary, ran: 0, fresh: 3, failed: 0, blocked: 0 });
  assert.is(result.results.render, "hello\n");
  assert.equal(result.results.use, { own: null, needs: { render: "hello\n" } });
  assert.equal(result.outcomes, { render: "fresh", other: "fresh", use: "fresh" });
  assert.equal(result.entries.map((e) => [e.task, e.status, e.reasons.length]), [["render", "fresh", 0], ["other", "fresh", 0], ["use", "fresh", 0]]);
  assert.equal(events.map((e) => e.type), ["begin", "task", "task", "task", "summary"]);
  assert.is(statusOf(events, "use"), "fresh");
});

test("right after a build, with every file stamp still racy, the run reads the state", async () => {
  const root = tempDir();
  const input = join(tempDir("stamp-input-"), "input.txt");
  writeFileSync(input, "hello\n");
  const world = newWorld();
  await build(root, graph(input), world);
  const { result, ran } = await build(root, graph(input), world);
  assert.is(result.stateRead, true);
  assert.equal(ran, []);
});

test("a changed read file is not fresh by the stamp: the state is read and its task runs", async () => {
  const { root, input, world } = await stamped();
  writeFileSync(input, "hello, world\n");
  const { result, events, ran } = await build(root, graph(input), world);
  assert.is(result.stateRead, true);
  assert.equal(ran, ["render", "use"]);
  assert.equal(reasonsOf(events, "render"), [`file \`${input}\` changed`]);
  assert.is(result.results.render, "hello, world\n");
});

test("an edit of the same size with the mtime put back is still seen (the stamp keeps ctime and inode too)", async () => {
  const { root, input, world } = await stamped();
  const before = statSync(input);
  rewriteKeepingMtime(input, "HELLO\n");
  assert.is(statSync(input).mtimeMs, before.mtimeMs);
  assert.is(statSync(input).size, before.size);
  const { result, ran } = await build(root, graph(input), world);
  assert.is(result.stateRead, true);
  assert.equal(ran, ["render", "use"]);
  assert.is(result.results.render, "HELLO\n");
});

test("a deleted read file is seen", async () => {
  const { root, input, world } = await stamped();
  unlinkSync(input);
  const { events, ran } = await build(root, graph(input), world);
  assert.equal(ran, ["render", "use"]);
  assert.equal(reasonsOf(events, "render"), [`file \`${input}\` was deleted`]);
});

test("a deleted output makes its task run; a modified one (same size, mtime put back) too", async () => {
  const { root, input, world } = await stamped();
  unlinkSync(join(root, "out.txt"));
  const deleted = await build(root, graph(input), world);
  assert.is(deleted.result.stateRead, true);
  assert.equal(deleted.ran, ["render"]);
  assert.equal(reasonsOf(deleted.events, "render"), ["output `out.txt` was deleted"]);

  const again = await stamped();
  const out = join(again.root, "out.txt");
  const before = statSync(out);
  rewriteKeepingMtime(out, "XXXXXX");
  assert.is(statSync(out).mtimeMs, before.mtimeMs);
  const modified = await build(again.root, graph(again.input), again.world);
  assert.equal(modified.ran, ["render"]);
  assert.equal(reasonsOf(modified.events, "render"), ["output `out.txt` was modified"]);
  assert.is(readFileSync(out, "utf8"), "HELLO\n");
});

test("a changed definition is seen: a new version, other needs, other reads, a changed input", async () => {
  const versioned = await stamped();
  const v2 = await build(versioned.root, graph(versioned.input, { renderVersion: 2 }), versioned.world);
  assert.is(v2.result.stateRead, true);
  assert.equal(v2.ran, ["render"]);
  assert.equal(reasonsOf(v2.events, "render"), ["its logic changed (version 1 → 2)"]);

  const needs = await stamped();
  const moreNeeds = await build(needs.root, graph(needs.input, { useNeeds: ["render", "other"] }), needs.world);
  assert.is(moreNeeds.result.stateRead, true);
  assert.equal(moreNeeds.ran, ["use"]);

  const reads = await stamped();
  const second = join(tempDir("stamp-input-"), "second.txt");
  writeFileSync(second, "second\n");
  const moreReads = await build(reads.root, graph(reads.input, { reads: [reads.input, second] }), reads.world);
  assert.equal(moreReads.ran, ["render"]);
  assert.equal(reasonsOf(moreReads.events, "render"), [`now reads file \`${second}\``]);

  const inputs = await stamped();
  inputs.world.inputs.other = "changed";
  const changedInput = await build(inputs.root, graph(inputs.input), inputs.world);
  assert.is(changedInput.result.stateRead, true);
  assert.equal(changedInput.ran, ["other"]);
  assert.equal(reasonsOf(changedInput.events, "other"), ["input `value` changed"]);
});

test("a file stamped within the racy window never goes in the stamp: its task is checked against the state", async () => {
  const { root, input, world } = await stamped();
  // A timestamp in the future keeps the file inside the racy window however long the run takes.
  const future = new Date(Date.now() + 60_000);
  utimesSync(input, future, future);
  const refreshed = await build(root, graph(input), world);
  assert.is(refreshed.result.stateRead, true, "the stat changed, so the stamp did not hold");
  assert.equal(refreshed.ran, [], "same content: nothing ran");
  const next = await build(root, graph(input), world);
  assert.is(next.result.stateRead, true, "the re-hashed stamp is racy, so `render` has no line");
  assert.equal(next.ran, []);
  const lines = readFileSync(join(root, STAMP_FILE), "utf8").split("\n");
  assert.ok(lines.some((line) => line.startsWith("other\t")), "`other`, which reads nothing racy, still has its line");
  assert.not.ok(lines.some((line) => line.startsWith("render\t")));
});

test("forced tasks and volatile tasks run whatever the stamp says", async () => {
  const { root, input, world } = await stamped();
  const forced = await build(root, graph(input), world, { force: ["other"] });
  assert.equal(forced.ran, ["other"]);
  const volatile = [...graph(input).filter((t) => t.name !== "other"), task("other", { output: "other.txt", volatile: true })];
  const { ran, events } = await build(root, volatile, world);
  assert.equal(ran, ["other"]);
  assert.equal(reasonsOf(events, "other"), ["volatile: re-checked every run"]);
});

test("a run over fewer targets is decided from the stamp's lines, and a stamp for other targets is not taken whole", async () => {
  const { root, input, world } = await stamped();
  const targeted = await build(root, graph(input), world, { targets: ["render"] });
  assert.equal(targeted.ran, []);
  assert.equal(Object.keys(targeted.result.outcomes), ["render"]);
  assert.is(targeted.result.stateRead, false, "every selected task had a line that held");
  // That run wrote no stamp (it read no state), so the full graph's stamp still serves the full graph.
  const full = await build(root, graph(input), world);
  assert.is(full.result.stateRead, false);
  assert.equal(Object.keys(full.result.outcomes).sort(), ["other", "render", "use"]);
});

test("a state file written without an id (as bottle wrote it before stamps) is read, then given an id and a stamp", async () => {
  const { root, input, world } = await stamped();
  const statePath = join(root, STATE_FILE);
  const { id, ...withoutId } = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
  assert.type(id, "string");
  writeFileSync(statePath, JSON.stringify(withoutId));
  unlinkSync(join(root, STAMP_FILE));
  const read = await build(root, graph(input), world);
  assert.is(read.result.stateRead, true);
  assert.equal(read.ran, [], "every record was kept");
  assert.equal(read.events.filter((e) => e.type === "warning"), []);
  assert.match(readFileSync(statePath, "utf8"), /^\{"format":"bottle-graph-state","version":1,"id":"[0-9a-f-]{36}"/);
  const next = await build(root, graph(input), world);
  assert.is(next.result.stateRead, false);
});

test("a stamp is not trusted once the state file was replaced, even with the same id and content", async () => {
  const { root, input, world } = await stamped();
  const statePath = join(root, STATE_FILE);
  // What a bottle that knows nothing of stamps does: rewrite the state (a new file), keeping the id it read.
  const copy = `${statePath}.copy`;
  writeFileSync(copy, readFileSync(statePath));
  renameSync(copy, statePath);
  const { result, ran } = await build(root, graph(input), world);
  assert.is(result.stateRead, true);
  assert.equal(ran, []);
});

test("a torn or foreign stamp is ignored", async () => {
  for (const damage of [(text: string) => text.slice(0, Math.floor(text.length * 0.7)), (text: string) => text.replace(/\t[^\t\n]*\n/, "\n"), () => "not a stamp\n"]) {
    const { root, input, world } = await stamped();
    const stampPath = join(root, STAMP_FILE);
    writeFileSync(stampPath, damage(readFileSync(stampPath, "utf8")));
    const { result, ran } = await build(root, graph(input), world);
    assert.ok(result.ok);
    assert.equal(ran, []);
    assert.is(result.stateRead, true);
  }
});

test("a dry run and explain read the full state and still say why", async () => {
  const { root, input, world } = await stamped();
  writeFileSync(input, "changed!\n");
  const plan = planGraph({ tasks: graph(input), ctx: world, root });
  const render = plan.entries.find((e) => e.task === "render")!;
  assert.is(render.status, "run");
  assert.equal(render.reasons, [{ kind: "file-changed", file: input }]);
});

test("a failed task loses its line: the next run reads the state and runs it again", async () => {
  const { root, input, world } = await stamped();
  let fail = true;
  const failing = graph(input).map((t) =>
    t.name === "other"
      ? task("other", {
          output: "other.txt",
          inputs: () => ({ attempt: fail ? 1 : 2 }),
          run: (run) => {
            run.ctx.runs.push("other");
            if (fail) throw new Error("boom");
            run.write("other.txt", "ok");
            return "ok";
          },
        })
      : t,
  );
  const failed = await build(root, failing, world);
  assert.not.ok(failed.result.ok);
  fail = false;
  const { result, ran, events } = await later(() => build(root, failing, world));
  assert.is(result.stateRead, true);
  assert.equal(ran, ["other"]);
  assert.equal(reasonsOf(events, "other"), ["its last run failed (boom)"]);
});

test.run();
