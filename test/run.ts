// Runs every compiled uvu suite (dist/test/**/*.test.js) in its own Node
// process, two at a time, and prints one summary line built from uvu's own
// per-file counts: `tests: N passed, N failed, N skipped`. A file that dies
// without a uvu summary counts as one failure. A suite that cannot run (a
// missing tool, not root) prints `skipped: <suite>: <reason>` on stdout
// (test/helpers/skip.ts); each such line counts as one skipped, and with CI
// set any skip fails the run. A suite that runs past
// BOTTLE_TEST_SUITE_TIMEOUT_MS (default 5 min) is killed and fails, so a hang
// cannot stall the run without a closing line. Arguments filter files by
// substring.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// BOTTLE_TEST_DIR lets the runner's own test point it at throw-away suites.
const testDir = process.env.BOTTLE_TEST_DIR ?? fileURLToPath(new URL(".", import.meta.url));

function findSuites(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (entry === "fixtures") continue;
    if (statSync(path).isDirectory()) found.push(...findSuites(path));
    else if (entry.endsWith(".test.js")) found.push(path);
  }
  return found;
}

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  /** The `skipped: <suite>: <reason>` lines the suite printed. */
  skips: string[];
  output: string;
  /** The suite exited but something it started kept its output open. */
  leftOpen: boolean;
  ms: number;
}

function count(output: string, label: string): number | undefined {
  const match = new RegExp(`^\\s*${label}:\\s+(\\d+)`, "m").exec(output);
  return match ? Number(match[1]) : undefined;
}

const SKIP_LINE = /^skipped: [^:\n]+: .+$/gm;

/** CI is set to anything but empty, 0 or false. */
function inCi(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** How long one suite may run; past it the suite is killed and counts as failed. */
const SUITE_TIMEOUT_MS = Number(process.env.BOTTLE_TEST_SUITE_TIMEOUT_MS ?? 300_000);
/** How long to wait for a suite's output to close once it has exited (a process it left may hold it open). */
const OUTPUT_GRACE_MS = 5_000;

/**
 * Where a suite's bottle keeps its config, state and caches: a fresh private
 * dir per suite, so no suite reads or writes the records and caches of the
 * user running the tests (a suite that needs its own sets them itself).
 */
function suiteHome(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "bottle-suite-"));
  const env: Record<string, string> = {};
  for (const [name, sub] of [["XDG_CONFIG_HOME", "config"], ["XDG_STATE_HOME", "state"], ["XDG_CACHE_HOME", "cache"]] as const) {
    env[name] = join(dir, sub);
    mkdirSync(env[name], { mode: 0o700 });
  }
  return { dir, env };
}

function runSuite(file: string): Promise<FileResult> {
  const started = Date.now();
  const home = suiteHome();
  return new Promise<FileResult>((resolve) => {
    const child = spawn(process.execPath, [file], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...home.env, FORCE_COLOR: "0" },
    });
    let output = "";
    let stdout = "";
    let timedOut = false;
    let leftOpen = false;
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const killTimer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, SUITE_TIMEOUT_MS);
    let graceTimer: NodeJS.Timeout | undefined;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    const finish = (): void => {
      clearTimeout(killTimer);
      clearTimeout(graceTimer);
      // uvu's Total already leaves skipped tests out.
      const total = count(output, "Total");
      const passed = timedOut ? 0 : (count(output, "Passed") ?? 0);
      let failed = timedOut || total === undefined ? Math.max(1, (total ?? 0) - passed) : total - passed;
      if (failed === 0 && code !== 0) failed = 1;
      if (timedOut) output += `\n(timed out after ${SUITE_TIMEOUT_MS} ms and was killed; BOTTLE_TEST_SUITE_TIMEOUT_MS sets the limit)`;
      else if (signal) output += `\n(killed by ${signal})`;
      const skips = stdout.match(SKIP_LINE) ?? [];
      resolve({ file, passed, failed, skips, output, leftOpen, ms: Date.now() - started });
    };
    child.on("exit", (exitCode, exitSignal) => {
      [code, signal] = [exitCode, exitSignal];
      graceTimer = setTimeout(() => {
        leftOpen = true;
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, OUTPUT_GRACE_MS);
    });
    child.on("close", () => {
      if (!leftOpen) finish();
    });
  }).finally(() => {
    try {
      rmSync(home.dir, { recursive: true, force: true });
    } catch {
      // Something a suite made there cannot be removed by this user: it stays in the temp dir.
    }
  });
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const suites = findSuites(testDir).filter(
    (file) => filters.length === 0 || filters.some((f) => file.includes(f)),
  );
  const queue = [...suites];
  const results: FileResult[] = [];
  const workers = Math.max(1, Math.min(availableParallelism(), 2));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const result = await runSuite(file);
        results.push(result);
        const name = relative(testDir, file);
        const mark = result.failed ? "FAIL" : result.skips.length ? "SKIP" : "ok  ";
        const skipped = result.skips.length ? `, ${result.skips.length} skipped` : "";
        console.log(`${mark} ${name}  ${result.passed} passed, ${result.failed} failed${skipped}  (${result.ms} ms)`);
        if (result.failed) console.log(result.output.replace(/^/gm, "    | "));
        if (result.leftOpen) console.log(`    | warning: its output was still held open ${OUTPUT_GRACE_MS} ms after it exited: a process it started outlived it`);
        else for (const line of result.skips) console.log(`    | ${line}`);
      }
    }),
  );
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skips = results.flatMap((r) => r.skips);
  if (suites.length === 0) console.log("no test files matched");
  if (skips.length) console.log(`skipped (each is a check that did not run):\n${skips.map((line) => `  ${line}`).join("\n")}`);
  const skipFails = skips.length > 0 && inCi();
  if (skipFails) console.log(`CI is set, so the ${skips.length} skipped suite${skips.length === 1 ? "" : "s"} above fail${skips.length === 1 ? "s" : ""} the run`);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skips.length} skipped`);
  process.exitCode = failed > 0 || suites.length === 0 || skipFails ? 1 : 0;
}

await main();
