// Proves LineTail, which the refusal follower and `bottle logs --follow`
// read logs with: only whole lines come out, each once; a line finished by
// a later write comes out whole; a truncated file is read again from its
// start; a line past MAX_LINE_BYTES is cut, not held whole; the unfinished
// last line is there for the end.
import { appendFileSync, closeSync, openSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LineTail, MAX_LINE_BYTES } from "../src/lib/line-tail.js";
import { scratchDir } from "./helpers/watch.js";

test("whole lines once each, a line split across writes whole, a truncated file from its start, the unfinished rest at the end", () => {
  const path = join(scratchDir("lt-"), "a.log");
  writeFileSync(path, "");
  const fd = openSync(path, "r");
  try {
    const tail = new LineTail(fd);
    assert.equal(tail.read(), []);
    appendFileSync(path, "one\ntw");
    assert.equal(tail.read(), ["one"]);
    assert.equal(tail.read(), [], "nothing new");
    appendFileSync(path, "o\nthree\n");
    assert.equal(tail.read(), ["two", "three"]);
    truncateSync(path, 0);
    appendFileSync(path, "fresh\nhalf");
    assert.equal(tail.read(), ["fresh"], "after truncation, from the start");
    assert.is(tail.rest(), "half");
    assert.is(tail.rest(), "", "taken once");
  } finally {
    closeSync(fd);
  }
});

test("a line longer than MAX_LINE_BYTES is cut there, and the next line is whole", () => {
  const path = join(scratchDir("lt-"), "b.log");
  writeFileSync(path, `${"x".repeat(MAX_LINE_BYTES + 100_000)}\nnext\n`);
  const fd = openSync(path, "r");
  try {
    const lines = new LineTail(fd).read();
    assert.equal(lines.map((l) => l.length), [MAX_LINE_BYTES, 4]);
    assert.is(lines[1], "next");
  } finally {
    closeSync(fd);
  }
});

test.run();
