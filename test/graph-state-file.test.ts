// The state file's layout: one JSON document, a record per line so a run
// parses only the records it asks for; the layout written in one piece
// before is still read; a torn file is set aside; a damaged record costs
// only its own task.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGraph, STATE_FILE, type EngineEvent, type TaskDef } from "../src/graph/index.js";
import { tempDir } from "./helpers/tmp.js";

const NAMES = ["plain", 'with "quotes"', "back\\slash", "new\nline", "tab\there", "ünï ✓", "t:{x}"];

function counted(ran: string[]): TaskDef<null>[] {
  return NAMES.map((name, i) => ({
    name,
    version: 1,
    ...(i > 0 ? { needs: [NAMES[i - 1]!] } : {}),
    writes: () => [`out-${i}.txt`],
    run: (run) => {
      ran.push(name);
      run.write(`out-${i}.txt`, name);
      return { name, line: "a\nb", n: i };
    },
  }));
}

async function run(root: string, ran: string[]): Promise<{ warnings: string[]; ok: boolean }> {
  const warnings: string[] = [];
  const result = await runGraph({ tasks: counted(ran), ctx: null, root, onEvent: (e: EngineEvent) => e.type === "warning" && warnings.push(e.message) });
  return { warnings, ok: result.ok };
}

/** A stage built once: its dir, its state file, and `ran`, emptied for the next run. */
async function builtOnce(): Promise<{ root: string; path: string; ran: string[] }> {
  const root = tempDir();
  const ran: string[] = [];
  await run(root, ran);
  ran.length = 0;
  return { root, path: join(root, STATE_FILE), ran };
}

test("the state file is one JSON document with a record per line, and every name survives the round trip", async () => {
  const { root, path, ran } = await builtOnce();
  const text = readFileSync(path, "utf8");
  const state = JSON.parse(text) as { id: string; tasks: Record<string, { result: unknown }> };
  assert.equal(Object.keys(state.tasks).sort(), [...NAMES].sort());
  assert.equal(state.tasks["new\nline"]!.result, { name: "new\nline", line: "a\nb", n: 3 });
  assert.is(text.split("\n").length, 1 + NAMES.length + 2, "a first line, a line per record, the closing line and the final newline");
  const again = await run(root, ran);
  assert.equal(ran, [], "every record was read back under its own name");
  assert.equal(again.warnings, []);
});

test("a state file written in one piece (the layout before records per line) is read", async () => {
  const { root, path, ran } = await builtOnce();
  writeFileSync(path, JSON.stringify(JSON.parse(readFileSync(path, "utf8"))));
  assert.is(readFileSync(path, "utf8").split("\n").length, 1);
  const { warnings } = await run(root, ran);
  assert.equal(ran, []);
  assert.equal(warnings, []);
  assert.ok(readFileSync(path, "utf8").split("\n").length > 2, "saved again in the layout of today");
});

test("a state file cut short at any line is set aside and every task runs", async () => {
  const { root, path, ran } = await builtOnce();
  const lines = readFileSync(path, "utf8").split("\n");
  for (const keep of [1, 3, lines.length - 2]) {
    writeFileSync(path, `${lines.slice(0, keep).join("\n")}\n`);
    ran.length = 0;
    const { warnings } = await run(root, ran);
    assert.is(ran.length, NAMES.length, `cut after ${keep} lines`);
    assert.match(warnings[0] ?? "", "not valid JSON");
  }
  assert.is(readdirSync(root).filter((f) => f.startsWith(`${STATE_FILE}.unreadable-`)).length, 3);
});

test("a damaged record costs only its own task (and what needs it)", async () => {
  const { root, path, ran } = await builtOnce();
  const lines = readFileSync(path, "utf8").split("\n");
  const last = lines.findIndex((line) => line.startsWith('"t:{x}"'));
  lines[last] = '"t:{x}":{"key":}';
  writeFileSync(path, lines.join("\n"));
  const { ok } = await run(root, ran);
  assert.ok(ok);
  assert.equal(ran, ["t:{x}"]);
});

test.run();
