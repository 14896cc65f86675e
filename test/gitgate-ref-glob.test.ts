// gitGate's branch patterns: refGlobProblem (TypeScript, no git at
// validation time) accepts exactly what `git check-ref-format
// --allow-onelevel --refspec-pattern` accepts, and a pattern matches refs
// as a refspec's `*` does.
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { refGlobMatches, refGlobProblem } from "../src/config/git-ref-glob.js";

const PATTERNS = [
  "agent/*", "*", "main", "feature/x", "agent/*/wip", "a*b", "refs/heads/agent/*", "refs/tags/v*", "v1.0", "a.b/c-d_e",
  "", "@", "a@{b", "a@b", "a b", "a\tb", "a~1", "a^", "a:b", "a?", "a[b", "a\\b", "x/**", "*/*", "a..b", ".hidden", "a/.b",
  "a.lock", "a/b.lock/c", "a/", "/a", "a//b", "a.", "a/./b", "ok/..x", "über", "a\x7f", "a/-b", "x.lock.y",
];

test("refGlobProblem agrees with git check-ref-format --allow-onelevel --refspec-pattern on every pattern", () => {
  for (const pattern of PATTERNS) {
    const git = spawnSync("git", ["check-ref-format", "--allow-onelevel", "--refspec-pattern", pattern]);
    const ours = refGlobProblem(pattern);
    assert.is(ours === null, git.status === 0, `${JSON.stringify(pattern)}: git says ${git.status === 0 ? "valid" : "invalid"}, we say ${ours ?? "valid"}`);
  }
});

test("a pattern is a branch name under refs/heads/ unless it starts with refs/; `*` spans `/`", () => {
  assert.ok(refGlobMatches("agent/*", "refs/heads/agent/x"));
  assert.ok(refGlobMatches("agent/*", "refs/heads/agent/x/y"));
  assert.not.ok(refGlobMatches("agent/*", "refs/heads/agents/x"));
  assert.not.ok(refGlobMatches("agent/*", "refs/tags/agent/x"));
  assert.ok(refGlobMatches("main", "refs/heads/main"));
  assert.not.ok(refGlobMatches("main", "refs/heads/main2"));
  assert.ok(refGlobMatches("refs/tags/v*", "refs/tags/v1.2"));
  assert.ok(refGlobMatches("a*b", "refs/heads/ab"));
  assert.not.ok(refGlobMatches("a*b", "refs/heads/a"));
  assert.ok(refGlobMatches("*", "refs/heads/anything/at/all"));
});

test.run();
