// Issue 18, point 3: a no-op `bottle build` whose config is served from the
// cache loads neither the schema library (zod) nor the evaluator (jiti):
// the served value was validated when it was cached (cache.ts). Seen
// through the CommonJS module cache, which both fill (the CLI's bundle
// requires zod on first use; jiti's entry loads its CommonJS build), as
// written by a preload at exit.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeProject, runBottle, validConfig } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

/** Runs `bottle build --json` in `project`; returns the CommonJS modules the process had loaded when it exited. */
function buildLoading(project: string, env: Record<string, string> = {}): string[] {
  const dir = tempDir("cache-hit-loads-");
  const log = join(dir, "loaded.txt");
  const preload = join(dir, "record-loaded.mjs");
  writeFileSync(
    preload,
    `import { createRequire } from "node:module";\nimport { writeFileSync } from "node:fs";\nconst cache = createRequire(import.meta.url).cache;\nprocess.on("exit", () => writeFileSync(${JSON.stringify(log)}, Object.keys(cache).join("\\n")));\n`,
  );
  const run = runBottle(["build", "--json"], { cwd: project, env, nodeArgs: ["--import", preload] });
  assert.is(run.code, 0, run.stderr);
  return readFileSync(log, "utf8").split("\n");
}

const fromPackage = (loaded: readonly string[], name: string): boolean => loaded.some((path) => path.includes(`/node_modules/${name}/`));

test("a config served from the cache loads neither zod nor jiti; one evaluated afresh loads both (the control)", () => {
  const project = makeProject(validConfig());
  // The first build evaluates the config (reading no cache: its workspaces are not known yet) and caches it.
  const first = buildLoading(project);
  assert.ok(fromPackage(first, "zod") && fromPackage(first, "jiti"), "control: an evaluation loads zod and jiti, and the record sees them");

  const served = buildLoading(project);
  assert.not.ok(fromPackage(served, "zod"), "zod was loaded for a served config");
  assert.not.ok(fromPackage(served, "jiti"), "jiti was loaded for a served config");

  const uncached = buildLoading(project, { BOTTLE_CONFIG_CACHE: "0" });
  assert.ok(fromPackage(uncached, "zod") && fromPackage(uncached, "jiti"), "control: with the cache off, both are loaded again");
});

test.run();
