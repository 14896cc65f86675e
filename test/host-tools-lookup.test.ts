// How bottle finds a host program (issue 20: mutants `npm run mutate` found
// unkilled in host-tools.ts): PATH first, then the tools dir; only an
// executable regular file counts (a directory of that name is passed over);
// and the search path names each workspace entry it drops, nothing else.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findOnPath, findTool, isExecutableFile, trustedSearchPath } from "../src/lib/host-tools.js";
import { searchPath } from "./helpers/search-path.js";
import { tempDir } from "./helpers/tmp.js";

function program(dir: string, name: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), "#!/bin/sh\n");
  chmodSync(join(dir, name), mode);
  return join(dir, name);
}

test("only an executable regular file is a program: not a directory of that name, not a file without x", () => {
  const base = tempDir("bhl-");
  mkdirSync(join(base, "first", "tool"), { recursive: true });
  program(join(base, "second"), "tool", 0o644);
  const third = program(join(base, "third"), "tool");
  assert.is(isExecutableFile(join(base, "first", "tool")), false);
  assert.is(isExecutableFile(join(base, "second", "tool")), false);
  assert.is(isExecutableFile(join(base, "missing")), false);
  assert.is(findOnPath("tool", ["first", "second", "third"].map((d) => join(base, d)).join(":")), third);
});

test("an empty or relative entry is never searched: it would find a program in the current directory (a workspace, say)", () => {
  const cwd = tempDir("bhl-cwd-");
  program(cwd, "tool");
  program(join(cwd, "bin"), "tool");
  const before = process.cwd();
  process.chdir(cwd);
  try {
    for (const searchPath of ["", ":", "bin", ".", "./bin", ":/nonexistent-bhl", "bin:/nonexistent-bhl"]) {
      assert.is(findOnPath("tool", searchPath), null, `searched ${JSON.stringify(searchPath)}`);
    }
    assert.is(findTool("tool", { PATH: ":bin:.", BOTTLE_TOOLS_DIR: "" }), null, "findTool on an unfiltered PATH");
  } finally {
    process.chdir(before);
  }
});

test("findTool looks on PATH first, then in the tools dir", () => {
  const base = tempDir("bhl-");
  const onPath = program(join(base, "path"), "tool");
  const inTools = program(join(base, "tools"), "tool");
  program(join(base, "tools"), "only-in-tools");
  assert.is(findTool("tool", { PATH: join(base, "path"), BOTTLE_TOOLS_DIR: join(base, "tools") }), onPath);
  assert.is(findTool("only-in-tools", { PATH: join(base, "path"), BOTTLE_TOOLS_DIR: join(base, "tools") }), join(base, "tools", "only-in-tools"));
  assert.is(findTool("tool", { PATH: join(base, "empty"), BOTTLE_TOOLS_DIR: join(base, "tools") }), inTools);
  assert.is(findTool("tool", { BOTTLE_TOOLS_DIR: join(base, "tools") }), inTools, "no PATH at all");
  assert.is(findTool("only-in-tools", { PATH: join(base, "path"), BOTTLE_TOOLS_DIR: "" }), null, "the tools dir switched off");
});

test("trustedSearchPath warns once per dropped entry (even when PATH repeats it) and about nothing else", () => {
  const workspace = tempDir("bhl-ws-");
  const { path, warnings } = searchPath([workspace], `/usr/bin:${join(workspace, "bin")}:/bin:${join(workspace, "bin")}`);
  assert.is(path, "/usr/bin:/bin");
  assert.equal(warnings.split("\n").filter(Boolean), [`warning: not looking for programs in ${join(workspace, "bin")} (on PATH): it is inside a workspace a bottle's guest can write`]);
  assert.is(trustedSearchPath([workspace], { PATH: "/usr/bin:/bin", BOTTLE_TOOLS_DIR: "" }), "/usr/bin:/bin");
});

test.run();
