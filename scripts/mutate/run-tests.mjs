// Stryker's test command, run in its sandbox for the dry run and once per
// mutant. It names the active mutant where every process the tests start
// can read it (see build.mjs) and runs the suites of the mutated file
// (scripts/mutate/modules.mjs; every module's for the dry run), two at a
// time in the order listed, stopping at the first failure: a mutant needs
// one failing test to be killed, and waiting for the rest (some time out
// when a mutant breaks what they wait for) is what would make a run take
// hours. A suite that prints `skipped:` counts as failed (the dry run has no
// skips, so a mutant made a suite unable to run), and so does one whose
// tests did not all pass though it exited 0 (uvu does that when a before
// hook throws). Exit code 0: the mutant survived.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { allSuites, suitesOf } from "./modules.mjs";

const SANDBOX = process.cwd();
const PARALLEL = 2;
/** A suite still running after this fails the run (a mutant that hangs it is killed). */
const SUITE_TIMEOUT_MS = Number(process.env.BOTTLE_MUTATE_SUITE_TIMEOUT_MS ?? 60_000);

const active = process.env.__STRYKER_ACTIVE_MUTANT__;
writeFileSync("dist/.stryker-active-mutant", active ?? "");

function chosenSuites() {
  if (active === undefined) return allSuites();
  const file = JSON.parse(readFileSync("dist/.stryker-mutants.json", "utf8"))[active];
  const found = file === undefined ? undefined : suitesOf(file);
  if (!found) {
    process.stderr.write(`mutate: mutant ${active} is in ${file ?? "no known file"}, which scripts/mutate/modules.mjs does not cover\n`);
    process.exit(2);
  }
  return found.suites;
}

const running = new Set();

/** Runs one suite in its own process group; resolves with why it failed, or null when it passed. */
function runSuite(suite) {
  const file = `dist/test/${suite}.test.js`;
  if (!existsSync(file)) return Promise.resolve(`${file} does not exist (a suite named in scripts/mutate/modules.mjs)`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: SANDBOX, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
    running.add(child);
    let output = "";
    let done = false;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(why);
    };
    const timer = setTimeout(() => finish(`${suite}: still running after ${SUITE_TIMEOUT_MS} ms`), SUITE_TIMEOUT_MS);
    const watch = (chunk) => {
      output += chunk.toString();
      // uvu prints ✘ as soon as a test fails; the rest of the suite need not run.
      if (output.includes("✘")) finish(`${suite}: a test failed`);
      else if (/^skipped: /m.test(output)) finish(`${suite}: skipped (${/^skipped: .*$/m.exec(output)[0]})`);
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", (chunk) => (output += chunk.toString()));
    child.on("exit", (code, signal) => {
      running.delete(child);
      if (code !== 0) return finish(`${suite}: exited with ${code ?? signal}\n${output.slice(-2000)}`);
      // uvu exits 0, printing no ✘, when a before hook throws: none of the suite's tests ran. Counted as test/run.ts counts it.
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
      finish(passed < total ? `${suite}: ${passed} of ${total} tests passed (a before hook failed?)\n${output.slice(-2000)}` : null);
    });
  });
}

/**
 * Kills what a run left: each suite's process group, then any process whose
 * command line names this sandbox (bottle's children lead groups of their
 * own, and a killed suite cleans nothing up). Only this run starts those.
 */
function killLeftovers() {
  for (const child of running) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  const ours = new Set([process.pid, process.ppid]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || ours.has(Number(entry))) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmdline.includes(`${SANDBOX}/`)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone
    }
  }
}

async function main() {
  const queue = [...chosenSuites()];
  let failure = null;
  let failed;
  const firstFailure = new Promise((resolve) => (failed = resolve));
  const worker = async () => {
    while (failure === null && queue.length) {
      const why = await runSuite(queue.shift());
      if (why !== null && failure === null) {
        failure = why;
        failed();
      }
    }
  };
  await Promise.race([Promise.all(Array.from({ length: PARALLEL }, worker)), firstFailure]);
  killLeftovers();
  if (failure !== null) {
    console.log(`mutate: ${failure}`);
    process.exit(1);
  }
  console.log("mutate: every suite passed");
  process.exit(0);
}

await main();
