// `npm run mutate [-- MODULE...]`: StrykerJS over bottle's security modules
// (all of them, or those whose names contain one of the arguments, e.g.
// `npm run mutate -- "git gate" jail`), then the mutation score per module
// from Stryker's JSON report. The HTML report is reports/mutation/mutation.html.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { MODULES, mutatePatterns, suitesOf } from "./modules.mjs";

const wanted = process.argv.slice(2);
const modules = wanted.length ? MODULES.filter((module) => wanted.some((name) => module.name.includes(name))) : MODULES;
if (modules.length === 0) {
  process.stderr.write(`mutate: no module matches ${wanted.join(", ")}; modules: ${MODULES.map((m) => m.name).join(", ")}\n`);
  process.exit(2);
}

const stryker = join(dirname(createRequire(import.meta.url).resolve("@stryker-mutator/core/package.json")), "bin", "stryker.js");
const args = [stryker, "run", ...(wanted.length ? ["--mutate", mutatePatterns(modules).join(",")] : [])];
const started = Date.now();
const run = spawnSync(process.execPath, args, { stdio: "inherit" });
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
if (run.status !== 0) {
  process.stderr.write(`mutate: stryker exited with ${run.status ?? run.signal} after ${minutes} min\n`);
  process.exit(run.status ?? 1);
}

// Score = detected / (detected + survived): killed and timed-out mutants are
// detected; ignored ones (message text) and ones that do not compile are not counted.
const report = JSON.parse(readFileSync("reports/mutation/mutation.json", "utf8"));
const rows = new Map();
for (const [file, { mutants }] of Object.entries(report.files)) {
  const module = suitesOf(file)?.module ?? file;
  const row = rows.get(module) ?? { killed: 0, timeout: 0, survived: 0, ignored: 0, other: 0 };
  for (const { status } of mutants) {
    if (status === "Killed") row.killed++;
    else if (status === "Timeout") row.timeout++;
    else if (status === "Survived" || status === "NoCoverage") row.survived++;
    else if (status === "Ignored") row.ignored++;
    else row.other++;
  }
  rows.set(module, row);
}
console.log(`\nmutation score per module (${minutes} min):`);
console.log("module               score  killed  timeout  survived  ignored  other");
for (const [module, r] of rows) {
  const detected = r.killed + r.timeout;
  const score = detected + r.survived ? ((100 * detected) / (detected + r.survived)).toFixed(1) : "-";
  console.log(`${module.padEnd(20)} ${String(score).padStart(5)}  ${String(r.killed).padStart(6)}  ${String(r.timeout).padStart(7)}  ${String(r.survived).padStart(8)}  ${String(r.ignored).padStart(7)}  ${String(r.other).padStart(5)}`);
}
