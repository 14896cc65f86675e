// The engine against GNU make on synthetic graphs (chain and fan-in, 1,000
// and 10,000 tasks): first build, no-op rebuild, and rebuild after one leaf
// input changes. Each measurement is a whole process, spawn to exit; the
// table shows medians. It reports times and never fails on them; it does
// fail (exit code 1) when a build is wrong.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeArgs, writeMakefile } from "./make-graph.js";
import { median, sleep, timeProcess, type Timed } from "./measure.js";
import { CHANGED_LEAF, expectedRanAfterChange, finalTask, leafContent, outputOf, SHAPES, writeInputs, type Shape } from "./shapes.js";

export interface BenchSize {
  size: number;
  repetitions: number;
}

const SIZES: readonly BenchSize[] = [
  { size: 1_000, repetitions: 5 },
  { size: 10_000, repetitions: 3 },
];
const TARGET_SIZE = 10_000;
const TARGET_RATIO = 2;
// The engine re-hashes files stamped within 1 s of their mtime (coarse
// file-system clocks make a same-size rewrite invisible to stat). Rebuilds
// wait this long first, as edits a person makes would; one extra no-op right
// after the build shows the cost when they do not.
const SETTLE_MS = 1_100;

const ENGINE_CLI = fileURLToPath(new URL("./engine-graph.js", import.meta.url));
const JOBS = availableParallelism();

type Contender = "engine" | "make";

interface EngineSummary {
  ok: boolean;
  ran: number;
  fresh: number;
  failed: number;
  blocked: number;
  ms: number;
}

interface Row {
  size: number;
  shape: Shape;
  phase: string;
  engineMs: number;
  makeMs: number;
}

class Configuration {
  readonly problems: string[] = [];
  readonly rows: Row[] = [];
  private readonly samples = { engine: [] as number[], make: [] as number[] };

  constructor(
    readonly shape: Shape,
    readonly size: number,
  ) {}

  get label(): string {
    return `${this.shape} ${this.size}`;
  }

  /** Runs both contenders on `dir`, the first one alternating by repetition; returns the engine's summary. */
  runBoth(dir: string, repetition: number, phase: string): EngineSummary | undefined {
    let summary: EngineSummary | undefined;
    const order: Contender[] = repetition % 2 === 0 ? ["engine", "make"] : ["make", "engine"];
    for (const contender of order) {
      const timed = contender === "engine" ? this.runEngine(dir) : timeProcess("make", makeArgs(dir, JOBS));
      this.samples[contender].push(timed.ms);
      if (timed.status !== 0) this.problems.push(`${this.label} ${phase}: ${contender} exited ${timed.status}: ${excerpt(timed.stderr || timed.stdout)}`);
      if (contender === "engine") summary = parseSummary(timed.stdout);
    }
    if (!summary) this.problems.push(`${this.label} ${phase}: the engine printed no JSON summary`);
    return summary;
  }

  private runEngine(dir: string): Timed {
    return timeProcess(process.execPath, [ENGINE_CLI, "--shape", this.shape, "--size", String(this.size), "--dir", dir]);
  }

  /** Closes a phase: its medians become a table row. */
  endPhase(phase: string): Row {
    const row = { size: this.size, shape: this.shape, phase, engineMs: median(this.samples.engine), makeMs: median(this.samples.make) };
    this.samples.engine = [];
    this.samples.make = [];
    this.rows.push(row);
    printRow(row);
    return row;
  }

  check(ok: boolean, what: string): void {
    if (!ok) this.problems.push(`${this.label}: ${what}`);
  }
}

function parseSummary(stdout: string): EngineSummary | undefined {
  const last = stdout.trim().split("\n").pop();
  try {
    return last ? (JSON.parse(last) as EngineSummary) : undefined;
  } catch {
    return undefined;
  }
}

function excerpt(text: string): string {
  const flat = text.trim().replace(/\s+/g, " ");
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function freshDir(workspace: string, shape: Shape, size: number): string {
  const dir = mkdtempSync(join(workspace, `${shape}-${size}-`));
  writeInputs(dir, shape, size);
  writeMakefile(dir, shape, size);
  return dir;
}

/** Edits the leaf input, and makes sure make sees it as newer than what it built from it. */
function changeLeaf(dir: string, revision: number): void {
  const leaf = join(dir, CHANGED_LEAF);
  writeFileSync(leaf, leafContent(0, revision));
  const builtFromIt = join(dir, outputOf("t0"));
  const built = statSync(builtFromIt).mtimeMs;
  if (statSync(leaf).mtimeMs <= built) utimesSync(leaf, new Date(), new Date(built + 10));
}

function readOrEmpty(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

async function benchConfiguration(workspace: string, shape: Shape, size: number, repetitions: number): Promise<Configuration> {
  const config = new Configuration(shape, size);

  let dir = "";
  for (let rep = 0; rep < repetitions; rep++) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = freshDir(workspace, shape, size);
    const summary = config.runBoth(dir, rep, "first build");
    config.check(summary?.ran === size, `first build ran ${summary?.ran} tasks, expected ${size}`);
  }
  config.endPhase("first build");

  const hasty = config.runBoth(dir, 0, "no-op right after build");
  config.check(hasty?.ran === 0, `no-op right after the build ran ${hasty?.ran} tasks, expected 0`);
  config.endPhase("no-op, right after build (1 run)");

  for (let rep = 0; rep < repetitions; rep++) {
    await sleep(SETTLE_MS);
    const summary = config.runBoth(dir, rep, "no-op");
    config.check(summary?.ran === 0, `no-op ran ${summary?.ran} tasks, expected 0`);
  }
  config.endPhase("no-op");

  const engineFinal = join(dir, "stage", outputOf(finalTask(shape, size)));
  const makeFinal = join(dir, outputOf(finalTask(shape, size)));
  const before = { engine: readOrEmpty(engineFinal), make: readOrEmpty(makeFinal) };
  const expected = expectedRanAfterChange(shape, size);
  for (let rep = 0; rep < repetitions; rep++) {
    await sleep(SETTLE_MS);
    changeLeaf(dir, rep + 1);
    const summary = config.runBoth(dir, rep, "one change");
    config.check(summary?.ran === expected, `one-change rebuild ran ${summary?.ran} tasks, expected ${expected}`);
  }
  config.endPhase("one change");

  const after = { engine: readOrEmpty(engineFinal), make: readOrEmpty(makeFinal) };
  config.check(after.engine !== "", `the engine's final output ${engineFinal} is missing`);
  config.check(after.make !== "", `make's final output ${makeFinal} is missing`);
  config.check(after.engine !== before.engine, "the engine's final output did not change after the leaf input did");
  config.check(after.make !== before.make, "make's final output did not change after the leaf input did");
  config.check(timeProcess("make", ["-q", ...makeArgs(dir, JOBS)]).status === 0, "make -q says the make build is not up to date");

  rmSync(dir, { recursive: true, force: true });
  return config;
}

const COLUMNS = [
  { title: "size", width: 7 },
  { title: "shape", width: 6 },
  { title: "phase", width: 33 },
  { title: "engine ms", width: 10 },
  { title: "make ms", width: 10 },
  { title: "engine/make", width: 11 },
] as const;

function printLine(cells: readonly string[]): void {
  console.log(cells.map((cell, i) => (i < 3 ? cell.padEnd(COLUMNS[i]!.width) : cell.padStart(COLUMNS[i]!.width))).join("  "));
}

function printRow(row: Row): void {
  printLine([row.size.toLocaleString("en-US"), row.shape, row.phase, row.engineMs.toFixed(0), row.makeMs.toFixed(0), `${(row.engineMs / row.makeMs).toFixed(2)}x`]);
}

function isTargetRow(row: Row): boolean {
  return row.size === TARGET_SIZE && (row.phase === "no-op" || row.phase === "one change");
}

/** `sizes` is for trying the suite quickly; `npm run bench` uses the defaults. */
export async function runEngineBench(sizes: readonly BenchSize[] = SIZES): Promise<void> {
  const target = `at ${TARGET_SIZE.toLocaleString("en-US")} tasks the no-op and one-change rebuilds should be within ${TARGET_RATIO}x of make's time`;
  console.log(`Target: ${target}.`);
  console.log(
    `Medians of ${sizes.map((s) => `${s.repetitions} runs at ${s.size.toLocaleString("en-US")}`).join(", ")}; wall clock of the whole process; make -j${JOBS}, engine concurrency ${JOBS}.`,
  );
  console.log(`Rebuilds start ${SETTLE_MS} ms after the previous run, past the engine's 1 s racy-stamp window.\n`);
  printLine(COLUMNS.map((c) => c.title));
  printLine(COLUMNS.map((c) => "-".repeat(c.width)));

  const workspace = mkdtempSync(join(tmpdir(), "bottle-bench-"));
  const configs: Configuration[] = [];
  try {
    for (const { size, repetitions } of sizes) {
      for (const shape of SHAPES) configs.push(await benchConfiguration(workspace, shape, size, repetitions));
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }

  console.log(`\nTarget: ${target}.`);
  for (const row of configs.flatMap((c) => c.rows).filter(isTargetRow)) {
    const ratio = row.engineMs / row.makeMs;
    console.log(`  ${row.shape} ${row.phase}: ${ratio.toFixed(2)}x, ${ratio <= TARGET_RATIO ? "met" : "MISSED"}`);
  }

  const problems = configs.flatMap((c) => c.problems);
  console.log(`\nCorrectness (ran counts from the engine's summary, final outputs, make -q): ${problems.length ? `${problems.length} problem(s)` : "all checks passed"}`);
  for (const problem of problems) console.log(`  FAIL ${problem}`);
  if (problems.length) process.exitCode = 1;
}
