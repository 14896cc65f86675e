// Every form of import the config's import graph must see, and how it
// resolves each, written out literally (issue 20: `npm run mutate` found the
// graph's patterns and package resolution mostly unpinned: only one spelling
// of each form was tested). The graph is what refuses a config that would
// load guest code before any of it runs, so a form it misses is a planted
// file that runs. Expectations follow Node's documented resolution (ESM
// `exports`: conditions, subpaths, patterns with the longest prefix winning)
// and jiti's (`.js` written for `.ts`, extensionless, directory index).
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { staticImportGraph } from "../src/config/import-graph.js";
import { tempDir } from "./helpers/tmp.js";

/** Writes `files` (relative path -> content) under `root`. */
function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function graphOf(config: string, files: Record<string, string>): { root: string; found: (path: string) => boolean } {
  const root = realpathSync(tempDir("bgf-"));
  write(root, { ...files, "bottle.config.ts": config.replaceAll("ROOT", root) });
  const graph = staticImportGraph(join(root, "bottle.config.ts"), (specifier) => specifier === "bottle");
  return { root, found: (path) => graph.files.includes(join(root, path)) };
}

const LEAF = "export const x = 1;\n";

test("every spelling of import, export, dynamic import and require is seen, template literals included", () => {
  const config = `
import a from "./a.ts";
import type { T } from "./b.ts";
export { c } from './c.ts';
export * from "./d.mts";
import "./e.cts";
import"./f.tsx";
import {
  g1,
  g2,
} from "./g.js";
import {h}from"./h";
const i = await import("./i.mjs");
const j = await import ( './j.cjs' );
const k = await import("./k.json", { with: { type: "json" } });
const l = require("./l.js");
const m = require ( './m' );
const n = await import(\`./n.ts\`);
const o = await import ( \`./o.ts\` , {} );
const q = require(\`./q.ts\`);
const r = require ( \`./r.ts\` );
import s from "file://ROOT/s.ts";
import t from "ROOT/t.ts";
export default {};
`;
  const files: Record<string, string> = { "k.json": "{}" };
  for (const name of ["a.ts", "b.ts", "c.ts", "d.mts", "e.cts", "f.tsx", "g.ts", "h.jsx", "i.mjs", "j.cjs", "l.js", "m/index.ts", "n.ts", "o.ts", "q.ts", "r.ts", "s.ts", "t.ts"]) files[name] = LEAF;
  const { found } = graphOf(config, files);
  for (const name of [...Object.keys(files)]) assert.ok(found(name), `${name} was not seen`);
});

test("what the config's files import is followed too, at any depth; a .json's text is not read as code", () => {
  const { found } = graphOf(`import "./one.ts";\nexport default {};\n`, {
    "one.ts": `import "./two/two.ts";\nimport data from "./data.json";\n`,
    "two/two.ts": `export * from "../three.mjs";\n`,
    "three.mjs": LEAF,
    "data.json": `{ "note": "import './never.ts'" }`,
    "never.ts": LEAF,
  });
  for (const name of ["one.ts", "two/two.ts", "three.mjs", "data.json"]) assert.ok(found(name), name);
  assert.not.ok(found("never.ts"), "text inside a JSON file was taken for an import");
});

test("node builtins and bottle itself are not looked up as packages", () => {
  const { found } = graphOf(`import "node:fs";\nimport "fs";\nimport "path/posix";\nimport "bottle";\nexport default {};\n`, {
    "node_modules/fs/package.json": JSON.stringify({ name: "fs", main: "index.js" }),
    "node_modules/fs/index.js": LEAF,
    "node_modules/path/package.json": JSON.stringify({ name: "path", main: "index.js" }),
    "node_modules/path/posix.js": LEAF,
    "node_modules/bottle/package.json": JSON.stringify({ name: "bottle", main: "index.js" }),
    "node_modules/bottle/index.js": LEAF,
  });
  for (const dir of ["fs", "path", "bottle"]) assert.not.ok(found(`node_modules/${dir}`), dir);
});

/** A package that only an ES import can load: CommonJS resolution finds nothing in it, so only `exports` says what loads. */
function esmPackage(name: string, exports: unknown, files: string[]): Record<string, string> {
  const out: Record<string, string> = { [`node_modules/${name}/package.json`]: JSON.stringify({ name, type: "module", exports }) };
  for (const file of files) out[`node_modules/${name}/${file}`] = LEAF;
  return out;
}

test("ES-only packages: exports as a string, an array, conditions (not `browser`), subpaths; scoped and in a parent's node_modules", () => {
  const root = realpathSync(tempDir("bgf-"));
  const project = join(root, "project");
  write(root, {
    ...esmPackage("str", "./main.js", ["main.js"]),
    ...esmPackage("arr", ["./first.js", "./second.js"], ["first.js", "second.js"]),
    ...esmPackage("cond", { import: "./esm.js", browser: "./browser.js" }, ["esm.js", "browser.js"]),
    ...esmPackage("nested", { ".": { node: { import: "./node-import.js" }, default: "./default.js" } }, ["node-import.js", "default.js"]),
    ...esmPackage("sub", { ".": { import: "./root.js" }, "./feature": { import: "./feature.js" }, "./other": { import: "./other.js" } }, ["root.js", "feature.js", "other.js"]),
    ...esmPackage("@scope/pkg", { import: "./scoped.js" }, ["scoped.js"]),
  });
  write(project, {
    "bottle.config.ts": `import "str";\nimport "arr";\nimport "cond";\nimport "nested";\nimport "sub/feature";\nimport "@scope/pkg";\nexport default {};\n`,
  });
  const graph = staticImportGraph(join(project, "bottle.config.ts"), () => false);
  const found = (path: string): boolean => graph.files.includes(join(root, "node_modules", path));
  for (const path of ["str", "str/main.js", "arr/first.js", "arr/second.js", "cond/esm.js", "nested/node-import.js", "nested/default.js", "sub", "sub/feature.js", "@scope/pkg", "@scope/pkg/scoped.js"]) {
    assert.ok(found(path), `${path} was not seen`);
  }
  for (const path of ["cond/browser.js", "sub/root.js", "sub/other.js"]) assert.not.ok(found(path), `${path} is no target of the import`);
});

test("exports patterns: the `*` is filled in, the longest prefix wins, a suffix must match, a key with two `*` is no pattern", () => {
  const exports = {
    "./*": { import: "./lib/*.js" },
    "./special/*": { import: "./special/*.mjs" },
    "./styles/*.css": { import: "./css/*.css" },
    "./two/*/*": { import: "./never/*.js" },
  };
  const { found } = graphOf(`import "pat/thing";\nimport "pat/special/one";\nimport "pat/styles/site.css";\nimport "pat/two/a/b";\nexport default {};\n`, {
    ...esmPackage("pat", exports, ["lib/thing.js", "special/one.mjs", "lib/special/one.js", "css/site.css", "lib/styles/site.css.js", "lib/two/a/b.js", "never/a/b.js", "never/a.js"]),
  });
  assert.ok(found("node_modules/pat/lib/thing.js"), "./* -> ./lib/thing.js");
  assert.ok(found("node_modules/pat/special/one.mjs"), "./special/* is longer than ./*");
  assert.not.ok(found("node_modules/pat/lib/special/one.js"), "the shorter pattern ./* won over ./special/*");
  assert.ok(found("node_modules/pat/css/site.css"), "./styles/*.css, suffix and all");
  assert.not.ok(found("node_modules/pat/lib/styles/site.css.js"), "./* won over the longer ./styles/*.css");
  assert.ok(found("node_modules/pat/lib/two/a/b.js"), "./two/a/b falls to ./*");
  assert.not.ok(found("node_modules/pat/never/a/b.js") || found("node_modules/pat/never/a.js"), "a key with two * was used as a pattern");
});

test("packages resolve by real path and from the nearest node_modules up the tree; a missing package is skipped", () => {
  const root = realpathSync(tempDir("bgf-"));
  const elsewhere = realpathSync(tempDir("bgf-else-"));
  write(elsewhere, { "linked/package.json": JSON.stringify({ name: "linked", main: "index.js" }), "linked/index.js": LEAF });
  write(root, {
    "node_modules/up/package.json": JSON.stringify({ name: "up", main: "index.js" }),
    "node_modules/up/index.js": LEAF,
    "deep/er/bottle.config.ts": `import "up";\nimport "linked";\nimport "not-installed";\nexport default {};\n`,
  });
  mkdirSync(join(root, "deep", "node_modules"));
  symlinkSync(join(elsewhere, "linked"), join(root, "deep", "node_modules", "linked"));
  const graph = staticImportGraph(join(root, "deep", "er", "bottle.config.ts"), () => false);
  for (const path of [join(root, "node_modules", "up"), join(root, "node_modules", "up", "index.js"), join(elsewhere, "linked"), join(elsewhere, "linked", "index.js")]) {
    assert.ok(graph.files.includes(path), `${path} was not seen`);
  }
  assert.not.ok(graph.files.some((file) => file.includes(join("deep", "node_modules", "linked"))), "a package by its link's path");
  assert.equal(graph.importedBy.get(join(root, "node_modules", "up")), join(root, "deep", "er", "bottle.config.ts"));
});

test("a file of every source extension is read for its own imports, and so is a config of any name", () => {
  const exts = ["ts", "mts", "cts", "tsx", "js", "mjs", "cjs", "jsx"];
  const files: Record<string, string> = {};
  for (const ext of exts) {
    files[`via.${ext}`] = `import "./leaf-${ext}.ts";\n`;
    files[`leaf-${ext}.ts`] = LEAF;
  }
  const { found } = graphOf(exts.map((ext) => `import "./via.${ext}";`).join("\n"), files);
  for (const ext of exts) assert.ok(found(`leaf-${ext}.ts`), `what a .${ext} file imports was not followed`);
  const root = realpathSync(tempDir("bgf-"));
  write(root, { "my-config": `import "./helper.ts";\n`, "helper.ts": LEAF });
  assert.ok(staticImportGraph(join(root, "my-config"), () => false).files.includes(join(root, "helper.ts")), "a config named without an extension (--config) was not read");
});

test("how a relative specifier resolves: a .json added, .mjs/.cjs written for .mts/.cts, an extension added to a dotted name, `.js` only at the end", () => {
  const { found } = graphOf(`import "./settings";\nimport "./p.mjs";\nimport "./q.cjs";\nimport "./vendor.js";\nimport "./name.js.x.js";\n`, {
    "settings.json": "{}",
    "p.mts": LEAF,
    "q.cts": LEAF,
    "vendor.js.ts": LEAF,
    "name.js.x.ts": LEAF,
  });
  for (const name of ["settings.json", "p.mts", "q.cts", "vendor.js.ts", "name.js.x.ts"]) assert.ok(found(name), `${name} was not seen`);
});

test("each file counts once, a config reached through a link is read where it really is, and what cannot be resolved is passed over", () => {
  const root = realpathSync(tempDir("bgf-"));
  write(root, {
    "real/bottle.config.ts": `import "./a.ts";\nimport "./b.ts";\n// import "./missing.ts";\nimport "chart.js";\n`,
    "real/a.ts": `import "./c.ts";\n`,
    "real/b.ts": `import "./c.ts";\n`,
    "real/c.ts": LEAF,
    "real/node_modules/chart.js/package.json": JSON.stringify({ name: "chart.js", main: "chart.cjs" }),
    "real/node_modules/chart.js/chart.cjs": LEAF,
  });
  mkdirSync(join(root, "link"));
  symlinkSync(join(root, "real", "bottle.config.ts"), join(root, "link", "bottle.config.ts"));
  const graph = staticImportGraph(join(root, "link", "bottle.config.ts"), () => false);
  assert.is(graph.files[0], join(root, "real", "bottle.config.ts"), "the config by its real path");
  for (const name of ["a.ts", "b.ts", "c.ts", "node_modules/chart.js", "node_modules/chart.js/chart.cjs"]) {
    assert.ok(graph.files.includes(join(root, "real", name)), `${name} was not seen`);
  }
  assert.is(graph.files.length, new Set(graph.files).size, `a file counted twice: ${graph.files.join(", ")}`);
});

test("packages without exports: no package.json, a TypeScript main or subpath, a scoped subpath; exports null, or naming a missing file", () => {
  const root = realpathSync(tempDir("bgf-"));
  write(root, {
    "node_modules/bare/index.js": LEAF,
    "node_modules/tspkg/package.json": JSON.stringify({ name: "tspkg", main: "./src/index" }),
    "node_modules/tspkg/src/index.ts": LEAF,
    "node_modules/tspkg/helpers.ts": LEAF,
    ...esmPackage("@scope/deep", { "./feature": { import: "./feature.js" } }, ["feature.js"]),
    "node_modules/nulled/package.json": JSON.stringify({ name: "nulled", main: "main.js", exports: null }),
    "node_modules/nulled/main.js": LEAF,
    ...esmPackage("gone", { import: "./missing.js", default: "./here.js" }, ["here.js"]),
    "bottle.config.ts": `import "bare";\nimport "tspkg";\nimport "tspkg/helpers";\nimport "@scope/deep/feature";\nimport "nulled";\nimport "gone";\n`,
  });
  const graph = staticImportGraph(join(root, "bottle.config.ts"), () => false);
  for (const path of ["bare/index.js", "tspkg/src/index.ts", "tspkg/helpers.ts", "@scope/deep", "@scope/deep/feature.js", "nulled/main.js", "gone/here.js"]) {
    assert.ok(graph.files.includes(join(root, "node_modules", path)), `${path} was not seen`);
  }
});

test("exports conditions: each of import, require, node, module-sync and default counts, whichever Node would pick; a null target is none", () => {
  const { found } = graphOf(`import "cond2";\nimport "sync";\nimport "nulls";\nimport "unexported/nothere";\n`, {
    ...esmPackage("cond2", { node: "./n.cjs", require: "./r.cjs", default: "./d.mjs" }, ["n.cjs", "r.cjs", "d.mjs"]),
    ...esmPackage("sync", { "module-sync": "./sync.mjs", require: "./r.cjs", import: "./i.mjs" }, ["sync.mjs", "r.cjs", "i.mjs"]),
    ...esmPackage("nulls", { ".": { browser: null, import: null, default: "./d.js" } }, ["d.js"]),
    ...esmPackage("unexported", { ".": "./main.js", "./feature": "./feature.js" }, ["main.js", "feature.js"]),
  });
  for (const path of ["cond2/n.cjs", "cond2/r.cjs", "cond2/d.mjs", "sync/sync.mjs", "sync/r.cjs", "sync/i.mjs", "nulls/d.js", "unexported"]) {
    assert.ok(found(`node_modules/${path}`), `${path} was not seen`);
  }
});

test("exports patterns whatever their order: the longest prefix wins, then the longer key; a `*` matches one character or more, never none", () => {
  const exports = {
    "./a/*.js": { import: "./long/*.js" },
    "./a/*": { import: "./short/*.js" },
    "./b/*": { import: "./short/b-*.js" },
    "./b/*.js": { import: "./long/b-*.js" },
    "./c/*": { import: "./c/*.js" },
    "./*/x/y/z": { import: "./never/*.js" },
    "./x*": { import: "./x/*.js" },
    "./*": { import: "./lib/*.js" },
  };
  const { found } = graphOf(`import "pat/a/f.js";\nimport "pat/b/g.js";\nimport "pat/c/x/y/z";\nimport "pat/x";\nimport "pat/q";\n`, {
    ...esmPackage("pat", exports, ["long/f.js", "short/f.js.js", "long/b-g.js", "short/b-g.js.js", "c/x/y/z.js", "never/c.js", "lib/x.js", "x/.js", "lib/q.js"]),
  });
  for (const path of ["long/f.js", "long/b-g.js", "c/x/y/z.js", "lib/x.js", "lib/q.js"]) assert.ok(found(`node_modules/pat/${path}`), `${path} was not seen`);
  for (const path of ["short/f.js.js", "short/b-g.js.js", "never/c.js", "x/.js"]) assert.not.ok(found(`node_modules/pat/${path}`), `${path} is no target`);
});

test.run();
