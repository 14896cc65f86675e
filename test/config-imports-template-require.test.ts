// A config that loads a file from a guest-writable workspace with
// require(`...`), a template literal without substitutions, is refused
// before any of its code runs (issue 20): the import graph reads that form
// as a literal specifier, like require("...") and import(`...`). Both on
// loadConfig with the workspace known, and end to end: `bottle build` of a
// config requiring a file in another registered bottle's writable workspace
// exits 2 and the planted file never runs.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../src/config/load.js";
import { isBottleError } from "../src/lib/errors.js";
import { describe, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

/** A module in `workspace` that writes `marker` when it runs, and a config that requires it with `requireCall`. */
function planted(workspace: string, requireCall: (file: string) => string): { config: string; marker: string } {
  const marker = join(tempDir("bottle-marker-"), "ran");
  const file = join(workspace, "evil.cjs");
  writeFileSync(file, `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\nexports.allow = ["evil.example"];\n`);
  const config = `const { allow } = ${requireCall(file)};\nexport default { name: "demo", image: "alpine:3", agent: { command: ["true"] }, egress: { allow } };\n`;
  return { config, marker };
}

const FORMS: Record<string, (file: string) => string> = {
  "require(`...`)": (file) => `require(\`${file}\`)`,
  "require( `...` ) with spaces": (file) => `require( \`${file}\` )`,
};

for (const [form, requireCall] of Object.entries(FORMS)) {
  test(`${form} of a file in a known guest-writable dir: refused before evaluation, the file never runs`, async () => {
    const workspace = tempDir("bottle-ws-");
    const { config, marker } = planted(workspace, requireCall);
    const path = join(tempDir("bottle-p-"), "bottle.config.ts");
    writeFileSync(path, config);
    try {
      await loadConfig(path, { cache: false, guardedDirs: [{ dir: workspace, why: "bottle `demo`'s guest can write it" }] });
      assert.unreachable("loaded");
    } catch (error) {
      assert.ok(isBottleError(error, "config"));
      assert.match((error as Error).message, `would load ${join(workspace, "evil.cjs")} (imported by ${path})`);
      assert.match((error as Error).message, "nothing was evaluated");
    }
    assert.not.ok(existsSync(marker), "the planted module ran");
  });
}

test("the same config loads when the file is not in a guarded dir (the form itself works: the refusal above is not a load error)", async () => {
  const elsewhere = tempDir("bottle-else-");
  const { config, marker } = planted(elsewhere, FORMS["require(`...`)"]!);
  const path = join(tempDir("bottle-p-"), "bottle.config.ts");
  writeFileSync(path, config);
  const loaded = await loadConfig(path, { cache: false, guardedDirs: [{ dir: tempDir("bottle-ws-"), why: "test" }] });
  assert.equal(loaded.config.egress.allow, ["evil.example"]);
  assert.ok(existsSync(marker));
});

test("bottle build: a config requiring (template literal) a file in a registered bottle's writable workspace exits 2; the file never runs", async () => {
  const owner = makeProject("tpl-req-owner");
  const workspace = join(owner.dir, "ws");
  const registry = join(owner.home.XDG_STATE_HOME, "bottle", "bottles");
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(registry, `${owner.name}.json`),
    JSON.stringify({ slug: owner.name, backend: "smolmachines", configPath: join(owner.dir, "bottle.config.ts"), stageDir: owner.stageDir, runDir: owner.runDir, octet: 9, writable: [workspace], updatedAt: 1 }),
  );
  const other = makeProject("tpl-req-other", { home: owner.home });
  const { config, marker } = planted(workspace, FORMS["require(`...`)"]!);
  writeFileSync(join(other.dir, "bottle.config.ts"), config.replace('name: "demo"', `name: "${other.name}"`));
  const build = await runBottle(other, ["build"]);
  assert.is(build.code, 2, describe(build));
  assert.match(build.stderr, `would load ${join(workspace, "evil.cjs")}`);
  assert.match(build.stderr, `bottle \`${owner.name}\`'s guest can write it`);
  assert.not.ok(existsSync(marker), "the planted module ran");
  assert.not.ok(existsSync(join(other.dir, ".bottle")), "something was rendered");
});

test.run();
