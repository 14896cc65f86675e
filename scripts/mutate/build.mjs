// Stryker's build step, run in its sandbox once the mutated files are
// instrumented (every mutant compiled in, switched by id):
// 1. compiles the sandbox with tsc (instrumented files carry @ts-nocheck;
//    a type error elsewhere is reported but does not stop the run: tsc
//    still emits);
// 2. makes the mutant switch reach every process the tests start. Stryker
//    names the active mutant in an environment variable, but bottle runs
//    most of its children with an environment of its own (the git gate,
//    the jail, the CLI under test), so the switch also reads
//    dist/.stryker-active-mutant, which run-tests.mjs writes before each run;
// 3. bundles the CLI from the switched files (scripts/bundle-cli.mjs);
// 4. writes dist/.stryker-mutants.json, mutant id -> source file, so
//    run-tests.mjs runs only the suites of the mutated file's module.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

const ENV_SWITCH = "g.process.env.__STRYKER_ACTIVE_MUTANT__";
const ACTIVE_FILE = resolve("dist/.stryker-active-mutant");

function walk(dir, ext) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...walk(path, ext));
    else if (path.endsWith(ext)) found.push(path);
  }
  return found;
}

// Stryker links node_modules into the sandbox only after this step: Node finds the checkout's above the sandbox.
const tscBin = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const tsc = spawnSync(process.execPath, [tscBin, "-p", "tsconfig.json"], { encoding: "utf8" });
if (tsc.status !== 0) {
  const errors = (tsc.stdout.match(/error TS\d+/g) ?? []).length;
  process.stderr.write(`mutate build: tsc reported ${errors} type error(s) (emitted anyway):\n${tsc.stdout.split("\n").slice(0, 10).join("\n")}\n`);
}
if (!existsSync("dist/src/cli/main.js")) {
  process.stderr.write("mutate build: tsc emitted nothing\n");
  process.exit(1);
}
chmodSync("dist/src/cli/main.js", 0o755);
// Stryker makes the sandbox 0700; some suites run bottle as other local users, who must reach it as they reach a checkout.
chmodSync(".", 0o755);

// In the compiled preamble the switch is read from the environment only; read the file too.
const fromFile = `(function () { try { return g.process.getBuiltinModule("node:fs").readFileSync(${JSON.stringify(ACTIVE_FILE)}, "utf8").trim() || undefined; } catch (e) { return undefined; } })()`;
let patched = 0;
for (const file of walk("dist", ".js")) {
  const text = readFileSync(file, "utf8");
  if (!text.includes(ENV_SWITCH)) continue;
  writeFileSync(file, text.replaceAll(ENV_SWITCH, `(${ENV_SWITCH} || ${fromFile})`));
  patched++;
}

// The CLI's bundle, from the switched files (the tests run the CLI through it).
const bundle = spawnSync(process.execPath, ["scripts/bundle-cli.mjs"], { encoding: "utf8" });
if (bundle.status !== 0) {
  process.stderr.write(`mutate build: bundling the CLI failed:\n${bundle.stderr}\n`);
  process.exit(1);
}

const mutants = {};
for (const file of walk("src", ".ts")) {
  for (const match of readFileSync(file, "utf8").matchAll(/stryMutAct_9fa48\("(\d+)"\)/g)) mutants[match[1]] = relative(".", file);
}
writeFileSync("dist/.stryker-mutants.json", JSON.stringify(mutants));
writeFileSync(ACTIVE_FILE, "");
process.stdout.write(`mutate build: ${patched} instrumented file(s) switched by ${ACTIVE_FILE} too; ${Object.keys(mutants).length} mutant(s) mapped to their files\n`);
if (patched === 0) {
  process.stderr.write(`mutate build: no compiled file reads ${ENV_SWITCH}: has Stryker's instrumenter changed?\n`);
  process.exit(1);
}
