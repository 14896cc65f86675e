// Proves the house's import direction: every import in src/ and tasks/
// (static, dynamic and type-only) is read with the TypeScript parser, and
// each arrow from one folder to another must be one the README's map
// allows: cli → app → tasks → the backend → config → lib, with the engine
// (graph) beside config, below everything but lib; the engine is reached
// through its index, the git gate and the injector through their start
// contracts. A wrong arrow fails with the file, the line and the rule it
// breaks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { folderOf, importsOf, sourceFiles, type SourceImport } from "./helpers/source-map.js";

const BACKEND = "src/backends/smolmachines";

/** Each folder and the folders it may import (itself always). Mirrors the table in the README's Development section. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  "src/cli": ["src/app", "src/graph", "src/lib"],
  "src/app": ["tasks", BACKEND, `${BACKEND}/steps`, `${BACKEND}/blocked`, `${BACKEND}/render`, `${BACKEND}/jail`, `${BACKEND}/process`, "src/config", "src/graph", "src/lib"],
  tasks: [BACKEND, `${BACKEND}/steps`, `${BACKEND}/render`, "src/config", "src/graph", "src/lib"],
  [`${BACKEND}/steps`]: [BACKEND, `${BACKEND}/blocked`, `${BACKEND}/render`, `${BACKEND}/jail`, `${BACKEND}/process`, "src/gitgate", "src/injector", "src/config", "src/graph", "src/lib"],
  [BACKEND]: [`${BACKEND}/render`, `${BACKEND}/jail`, `${BACKEND}/process`, "src/gitgate", "src/injector", "src/config", "src/graph", "src/lib"],
  [`${BACKEND}/blocked`]: [BACKEND, "src/config", "src/lib"],
  [`${BACKEND}/render`]: [BACKEND, `${BACKEND}/jail`, "src/gitgate", "src/config", "src/lib"],
  [`${BACKEND}/jail`]: [`${BACKEND}/process`, "src/lib"],
  [`${BACKEND}/process`]: ["src/lib"],
  "src/gitgate": ["src/config", "src/lib"],
  "src/injector": ["src/lib"],
  "src/config": ["src/lib"],
  "src/graph": ["src/lib"],
  "src/lib": [],
  // src/index.ts: what `import … from "bottle"` gives a config file.
  src: ["src/config"],
};

/**
 * Folders other folders may reach only through some of their files: the
 * engine through its index (and the CLI its views), the git gate and the
 * credential injector (programs of their own) through how a launch starts
 * them (and the git gate's environment for git, which the Smolfile renders).
 */
const ONLY_THROUGH: Readonly<Record<string, (from: string, to: string) => boolean>> = {
  "src/graph": (from, to) => to === "src/graph/index.ts" || (folderOf(from) === "src/cli" && to.startsWith("src/graph/views/")),
  "src/gitgate": (_from, to) => ["src/gitgate/start.ts", "src/gitgate/options.ts", "src/gitgate/git-env.ts"].includes(to),
  "src/injector": (_from, to) => to === "src/injector/start.ts",
};

function wrongArrows(imports: readonly SourceImport[]): string[] {
  const wrong: string[] = [];
  for (const imp of imports) {
    if (imp.to === null) continue;
    const from = folderOf(imp.from);
    const to = folderOf(imp.to);
    if (from === to) continue;
    const allowed = MAY_IMPORT[from];
    if (allowed === undefined) wrong.push(`${imp.from}:${imp.line}: ${from} is not a folder of the map (add it to the README's table and to MAY_IMPORT)`);
    else if (!allowed.includes(to)) wrong.push(`${imp.from}:${imp.line}: ${from} → ${to} (${imp.specifier}); ${from} may import only ${allowed.join(", ") || "nothing of the app"}`);
    else if (ONLY_THROUGH[to]?.(imp.from, imp.to) === false) wrong.push(`${imp.from}:${imp.line}: ${imp.to} (${imp.specifier}) is inside ${to}; from outside, import its index or start contract`);
  }
  return wrong;
}

const imports = sourceFiles().flatMap((file) => importsOf(file));

test("every import in src/ and tasks/ points the way the map allows", () => {
  assert.ok(imports.length > 300, `read ${imports.length} imports: too few, is the reader broken?`);
  assert.equal(wrongArrows(imports), []);
});

test("the engine and src/lib import nothing of the app, and the backend never imports tasks/ or the CLI", () => {
  const from = (prefix: string): SourceImport[] => imports.filter((imp) => imp.from.startsWith(prefix) && imp.to !== null);
  assert.equal(from("src/graph/").filter((imp) => !imp.to!.startsWith("src/graph/") && !imp.to!.startsWith("src/lib/")), []);
  assert.equal(from("src/lib/").filter((imp) => !imp.to!.startsWith("src/lib/")), []);
  assert.equal(from("src/backends/").filter((imp) => imp.to!.startsWith("tasks/") || imp.to!.startsWith("src/cli/") || imp.to!.startsWith("src/app/")), []);
});

test("the checker sees a wrong arrow: the engine importing the CLI, a type-only import included", () => {
  const planted: SourceImport[] = [
    { from: "src/graph/run.ts", specifier: "../cli/args.js", to: "src/cli/args.ts", line: 1, typeOnly: true },
    { from: `${BACKEND}/steps/attach-agent.ts`, specifier: "../../../../tasks/index.js", to: "tasks/index.ts", line: 2, typeOnly: false },
    { from: "src/graph/run.ts", specifier: "../lib/errors.js", to: "src/lib/errors.ts", line: 3, typeOnly: false },
  ];
  assert.equal(wrongArrows(planted).length, 2);
  assert.match(wrongArrows(planted)[0]!, "src/graph → src/cli");
  assert.match(wrongArrows(planted)[1]!, `${BACKEND}/steps → tasks`);
});

test("the checker sees an arrow into the engine's or the git gate's insides", () => {
  const planted: SourceImport[] = [
    { from: "tasks/ports.ts", specifier: "../src/graph/executor.js", to: "src/graph/executor.ts", line: 1, typeOnly: false },
    { from: `${BACKEND}/steps/git-gate.ts`, specifier: "../../../gitgate/push-check.js", to: "src/gitgate/push-check.ts", line: 2, typeOnly: false },
    { from: `${BACKEND}/steps/start-sidecars.ts`, specifier: "../../../injector/main.js", to: "src/injector/main.ts", line: 3, typeOnly: false },
    // Allowed: the engine's index, the CLI's views, the start contracts.
    { from: "tasks/ports.ts", specifier: "../src/graph/index.js", to: "src/graph/index.ts", line: 4, typeOnly: false },
    { from: "src/cli/progress.ts", specifier: "../graph/views/plain.js", to: "src/graph/views/plain.ts", line: 5, typeOnly: false },
    { from: `${BACKEND}/steps/git-gate.ts`, specifier: "../../../gitgate/start.js", to: "src/gitgate/start.ts", line: 6, typeOnly: false },
  ];
  const wrong = wrongArrows(planted);
  assert.equal(wrong.length, 3, wrong.join("\n"));
  assert.match(wrong[0]!, "src/graph/executor.ts");
  assert.match(wrong[1]!, "src/gitgate/push-check.ts");
  assert.match(wrong[2]!, "src/injector/main.ts");
});

test.run();
