// test/run.ts counts `skipped: <suite>: <reason>` lines as skipped, says so
// in its closing line, and with CI set a skipped suite fails the run. A
// suite that hangs, or leaves a process holding its output, cannot stall it.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempDir } from "./helpers/tmp.js";

const RUNNER = fileURLToPath(new URL("./run.js", import.meta.url));

/** A stand-in suite: prints what uvu prints for `passed` tests, plus `extra` lines. */
function suite(dir: string, name: string, passed: number, extra: string[] = []): void {
  const lines = [...extra, `  Total:     ${passed}`, `  Passed:    ${passed}`, "  Skipped:   0"];
  writeFileSync(join(dir, `${name}.test.js`), `console.log(${JSON.stringify(lines.join("\n"))});\n`);
}

function runRunner(dir: string, env: Record<string, string>): { code: number | null; lines: string[] } {
  const { CI: _, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [RUNNER], { env: { ...inherited, BOTTLE_TEST_DIR: dir, ...env }, encoding: "utf8" });
  return { code: result.status, lines: result.stdout.trimEnd().split("\n") };
}

function world(): string {
  const dir = tempDir("runner-");
  suite(dir, "a", 2);
  suite(dir, "b", 1, ["skipped: b-jail: bwrap is not on PATH", "not a skip: skipped: x: y"]);
  suite(dir, "c", 0, ["skipped: c-root: needs root"]);
  return dir;
}

test("each skipped line counts once, is listed, and the closing line counts them", () => {
  const run = runRunner(world(), {});
  assert.is(run.code, 0, run.lines.join("\n"));
  assert.is(run.lines.at(-1), "tests: 3 passed, 0 failed, 2 skipped");
  assert.ok(run.lines.includes("  skipped: b-jail: bwrap is not on PATH"), run.lines.join("\n"));
  assert.ok(run.lines.includes("  skipped: c-root: needs root"), run.lines.join("\n"));
});

test("with CI set, a skipped suite fails the run and the line before the summary says why", () => {
  const run = runRunner(world(), { CI: "1" });
  assert.is(run.code, 1);
  assert.is(run.lines.at(-1), "tests: 3 passed, 0 failed, 2 skipped");
  assert.match(run.lines.at(-2) ?? "", /CI is set, so the 2 skipped suites above fail the run/);
});

test("with CI set and nothing skipped, the run passes", () => {
  const dir = tempDir("runner-");
  suite(dir, "a", 2);
  const run = runRunner(dir, { CI: "true" });
  assert.is(run.code, 0, run.lines.join("\n"));
  assert.is(run.lines.at(-1), "tests: 2 passed, 0 failed, 0 skipped");
});

test("a suite that hangs is killed at BOTTLE_TEST_SUITE_TIMEOUT_MS and fails the run, which still ends with its closing line", () => {
  const dir = tempDir("runner-");
  suite(dir, "a", 2);
  writeFileSync(join(dir, "hangs.test.js"), "console.log('started'); setInterval(() => {}, 1000);\n");
  const run = runRunner(dir, { BOTTLE_TEST_SUITE_TIMEOUT_MS: "1000" });
  assert.is(run.code, 1, run.lines.join("\n"));
  assert.ok(run.lines.some((line) => /^FAIL hangs\.test\.js {2}0 passed, 1 failed/.test(line)), run.lines.join("\n"));
  assert.ok(run.lines.some((line) => line.includes("timed out after 1000 ms and was killed")), run.lines.join("\n"));
  assert.is(run.lines.at(-1), "tests: 2 passed, 1 failed, 0 skipped");
});

test("a suite that exits leaving a process that holds its output open does not stall the run, and is named", () => {
  const dir = tempDir("runner-");
  // The leftover holds the suite's stdout (inherited) and outlives it; it is killed below.
  const pidFile = join(dir, "leftover.pid");
  const lines = ["  Total:     1", "  Passed:    1", "  Skipped:   0"].join("\n");
  writeFileSync(
    join(dir, "leaks.test.js"),
    `const { spawn } = require("node:child_process");\n` +
      `const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: ["ignore", "inherit", "inherit"] });\n` +
      `require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));\n` +
      `child.unref();\nconsole.log(${JSON.stringify(lines)});\n`,
  );
  writeFileSync(join(dir, "package.json"), `{ "type": "commonjs" }\n`);
  try {
    const run = runRunner(dir, {});
    assert.is(run.code, 0, run.lines.join("\n"));
    assert.ok(run.lines.some((line) => line.includes("warning: its output was still held open")), run.lines.join("\n"));
    assert.is(run.lines.at(-1), "tests: 1 passed, 0 failed, 0 skipped");
  } finally {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // already gone
    }
  }
});

test("each suite gets its own private config, state and cache dirs, never the user's, removed when it ends", () => {
  const dir = tempDir("runner-");
  const report = join(tempDir("runner-report-"), "homes.jsonl");
  const probe = (name: string): void =>
    writeFileSync(
      join(dir, `${name}.test.js`),
      `const { appendFileSync, statSync } = require("node:fs");
const names = ["XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"];
appendFileSync(${JSON.stringify(report)}, JSON.stringify(names.map((n) => [process.env[n], (statSync(process.env[n]).mode & 0o777).toString(8)])) + "\\n");
console.log("  Total:     1\\n  Passed:    1\\n  Skipped:   0");
`,
    );
  probe("a");
  probe("b");
  const user = { XDG_CONFIG_HOME: "/nonexistent/config", XDG_STATE_HOME: "/nonexistent/state", XDG_CACHE_HOME: "/nonexistent/cache" };
  const run = runRunner(dir, user);
  assert.is(run.code, 0, run.lines.join("\n"));
  const homes = readFileSync(report, "utf8").trim().split("\n").map((line) => JSON.parse(line) as [string, string][]);
  assert.is(homes.length, 2);
  const seen = homes.flat().map(([path]) => path);
  assert.is(new Set(seen).size, 6, `six different dirs: ${seen.join(", ")}`);
  for (const [path, mode] of homes.flat()) {
    assert.not.ok(Object.values(user).includes(path), `${path} is the user's`);
    assert.is(mode, "700", path);
    assert.not.ok(existsSync(path), `${path} was removed`);
  }
});

test.run();
