// Packages reaching into a guest-writable workspace through symlinks
// (issue 20). The import graph adds a package's directory and every file its
// import could load (each by its real path), so a config importing one is
// refused before anything runs when the workspace is known:
// - a package outside the workspace whose entry file is a symlink into it,
//   CommonJS or ES-only; and so for a user whose environment sets
//   NODE_PRESERVE_SYMLINKS=1, under which Node's own resolution answers with
//   the link's path rather than the file's;
// - an ES-only package whose `exports` pattern ("./*") maps the imported
//   subpath to such a link, and one whose conditions jiti reads in the
//   package's key order ({ node: { import }, import }): before issue 20 the
//   graph resolved neither (no patterns; a fixed condition order) and the
//   planted file ran;
// - a package directory that is itself a symlink into the workspace,
//   imported by such a pattern subpath.
// Each planted module writes a marker file if it ever runs.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../src/config/load.js";
import { isBottleError } from "../src/lib/errors.js";
import { describe, makeProject, runBottle, type Project } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

interface Planted {
  file: string;
  marker: string;
}

/** A module in `dir` that writes its marker when it runs and exports `allow`. */
function plantModule(dir: string, name: string, style: "cjs" | "esm"): Planted {
  const marker = join(tempDir("bottle-marker-"), "ran");
  const file = join(dir, name);
  const body =
    style === "esm"
      ? `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport const allow = ["evil.example"];\n`
      : `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\nexports.allow = ["evil.example"];\n`;
  writeFileSync(file, body);
  return { file, marker };
}

/** <dir>/node_modules/<name> with this package.json, and its files (a string: written; { link }: a symlink). */
function makePackage(dir: string, name: string, manifest: object, files: Record<string, string | { link: string }>): string {
  const pkg = join(dir, "node_modules", name);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name, ...manifest }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(pkg, path, ".."), { recursive: true });
    if (typeof content === "string") writeFileSync(join(pkg, path), content);
    else symlinkSync(content.link, join(pkg, path));
  }
  return pkg;
}

function writeConfig(dir: string, specifier: string, name = "demo"): string {
  const path = join(dir, "bottle.config.ts");
  writeFileSync(path, `import { allow } from ${JSON.stringify(specifier)};\nexport default { name: "${name}", image: "alpine:3", agent: { command: ["true"] }, egress: { allow } };\n`);
  return path;
}

/** loadConfig with `workspace` known guest-writable: must refuse, naming `file`, before the planted module runs. */
async function assertRefusedBeforeEvaluation(config: string, workspace: string, file: string, planted: Planted): Promise<void> {
  try {
    await loadConfig(config, { cache: false, guardedDirs: [{ dir: workspace, why: "bottle `demo`'s guest can write it" }] });
    assert.unreachable("loaded");
  } catch (error) {
    assert.ok(isBottleError(error, "config"));
    assert.match((error as Error).message, `would load ${file}`);
    assert.match((error as Error).message, "nothing was evaluated");
  }
  assert.not.ok(existsSync(planted.marker), "the planted module ran");
}

test("a CommonJS package outside the workspace whose main file is a symlink into it: refused before evaluation", async () => {
  const [workspace, project] = [tempDir("bottle-ws-"), tempDir("bottle-p-")];
  const planted = plantModule(workspace, "evil.cjs", "cjs");
  makePackage(project, "ok", { main: "index.js" }, { "index.js": { link: planted.file } });
  await assertRefusedBeforeEvaluation(writeConfig(project, "ok"), workspace, planted.file, planted);
});

test("an ES-only package outside the workspace whose entry is a symlink into it: refused before evaluation", async () => {
  const [workspace, project] = [tempDir("bottle-ws-"), tempDir("bottle-p-")];
  const planted = plantModule(workspace, "evil.mjs", "esm");
  makePackage(project, "ok", { type: "module", exports: { ".": { import: "./index.js" } } }, { "index.js": { link: planted.file } });
  await assertRefusedBeforeEvaluation(writeConfig(project, "ok"), workspace, planted.file, planted);
});

test("an exports pattern mapping the imported subpath to a symlink into the workspace: refused before evaluation", async () => {
  const [workspace, project] = [tempDir("bottle-ws-"), tempDir("bottle-p-")];
  const planted = plantModule(workspace, "evil.js", "esm");
  makePackage(project, "ok", { type: "module", exports: { "./*": { import: "./src/*.js" } } }, { "src/hosts.js": { link: planted.file } });
  await assertRefusedBeforeEvaluation(writeConfig(project, "ok/hosts"), workspace, planted.file, planted);
});

test("conditions in the package's key order ({ node: { import }, import }): the one jiti picks is seen too, refused before evaluation", async () => {
  const [workspace, project] = [tempDir("bottle-ws-"), tempDir("bottle-p-")];
  const planted = plantModule(workspace, "evil.js", "esm");
  const exports = { ".": { node: { import: "./a.js" }, import: "./b.js" } };
  makePackage(project, "ok", { type: "module", exports }, { "a.js": { link: planted.file }, "b.js": `export const allow = ["fine.example"];\n` });
  await assertRefusedBeforeEvaluation(writeConfig(project, "ok"), workspace, planted.file, planted);
});

test("a package directory that is a symlink into the workspace, imported by a pattern subpath: refused before evaluation", async () => {
  const [workspace, project] = [tempDir("bottle-ws-"), tempDir("bottle-p-")];
  const real = join(workspace, "evil");
  mkdirSync(join(real, "src"), { recursive: true });
  writeFileSync(join(real, "package.json"), JSON.stringify({ name: "evil", type: "module", exports: { "./*": { import: "./src/*.js" } } }));
  const planted = plantModule(join(real, "src"), "hosts.js", "esm");
  mkdirSync(join(project, "node_modules"));
  symlinkSync(real, join(project, "node_modules", "evil"));
  await assertRefusedBeforeEvaluation(writeConfig(project, "evil/hosts"), workspace, real, planted);
});

test("(control) the same forms load when nothing is in a guarded dir: jiti loads what the graph resolved", async () => {
  const [elsewhere, project] = [tempDir("bottle-else-"), tempDir("bottle-p-")];
  const pattern = plantModule(elsewhere, "pattern.js", "esm");
  makePackage(project, "pat", { type: "module", exports: { "./*": { import: "./src/*.js" } } }, { "src/hosts.js": { link: pattern.file } });
  const ordered = plantModule(elsewhere, "ordered.js", "esm");
  makePackage(project, "ord", { type: "module", exports: { ".": { node: { import: "./a.js" }, import: "./b.js" } } }, { "a.js": { link: ordered.file }, "b.js": "export const allow = [];\n" });
  for (const [specifier, planted] of [["pat/hosts", pattern], ["ord", ordered]] as const) {
    const loaded = await loadConfig(writeConfig(project, specifier), { cache: false, guardedDirs: [{ dir: tempDir("bottle-ws-"), why: "test" }] });
    assert.equal(loaded.config.egress.allow, ["evil.example"], specifier);
    assert.ok(existsSync(planted.marker), `${specifier}: jiti loaded another file than the one the graph was checked with`);
  }
});

function registerWorkspace(owner: Project, workspace: string): void {
  const registry = join(owner.home.XDG_STATE_HOME, "bottle", "bottles");
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(registry, `${owner.name}.json`),
    JSON.stringify({ slug: owner.name, backend: "smolmachines", configPath: join(owner.dir, "bottle.config.ts"), stageDir: owner.stageDir, runDir: owner.runDir, octet: 9, writable: [workspace], updatedAt: 1 }),
  );
}

test("bottle build with NODE_PRESERVE_SYMLINKS=1: a package's symlinked entry is still found by its real path; exit 2, nothing runs", async () => {
  const owner = makeProject("sym-entry-owner");
  const workspace = join(owner.dir, "ws");
  registerWorkspace(owner, workspace);
  const other = makeProject("sym-entry-other", { home: owner.home });
  const planted = plantModule(workspace, "evil.cjs", "cjs");
  makePackage(other.dir, "ok", { main: "index.js" }, { "index.js": { link: planted.file } });
  writeConfig(other.dir, "ok", other.name);
  const build = await runBottle(other, ["build"], { env: { NODE_PRESERVE_SYMLINKS: "1" } });
  assert.is(build.code, 2, describe(build));
  assert.match(build.stderr, `would load ${planted.file}`);
  assert.not.ok(existsSync(planted.marker), "the planted entry ran");
});

test.run();
