// Proves `bottle allow NAME HOST` edits the registered bottle's config as a
// person would, and only when it can check the result: HOST appended to an
// `allow` array (one line, several lines with a trailing comma and a
// comment), or `allow` created inside an existing `egress: { ... }`; the
// mode kept. A config of another shape is left byte for byte as it was,
// with the exact line to add. A host already allowed (exactly, by a
// wildcard, by a preset) changes nothing and exits 0. A host egress.allow
// refuses is refused before anything is read. A write-anywhere host is
// warned about. A symlinked config is not edited through; an edit the
// loaded config does not reflect is undone; a config inside a workspace a
// guest can write is never run.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bottle, makeProject, scratchDir, type Project } from "./helpers/watch.js";
import { registerBottle } from "../src/app/registry.js";
import { runDir } from "../src/backends/smolmachines/run-dir.js";

const HEAD = 'name: "ba", image: "alpine:3", agent: { command: ["sh"] },';

/** A project whose config is `source`, registered as bottle `ba` (as a launch would have), with `configPath` the registry's path to it. */
function registered(source: string, options: { configPath?: string; writable?: string[] } = {}): Project {
  const project = makeProject({ name: "ba", env: {}, allow: [] });
  writeFileSync(project.config, source);
  const env = project.env;
  registerBottle(
    { slug: "ba", backend: "smolmachines", configPath: options.configPath ?? project.config, stageDir: project.stage, runDir: runDir("ba", env), octet: 1, writable: options.writable ?? [], updatedAt: Date.now() },
    env,
  );
  return project;
}

function allow(project: Project, host: string) {
  return bottle(project, ["allow", "ba", host]);
}

/** The file's bytes and mtime, to prove it was not touched. */
const snapshot = (path: string) => `${statSync(path).mtimeMs} ${readFileSync(path, "utf8")}`;

const shapes: { name: string; before: string; after: string; line: number }[] = [
  {
    name: "an allow array on one line",
    before: `export default { ${HEAD} egress: { allow: ["a.example.com"] } };\n`,
    after: `export default { ${HEAD} egress: { allow: ["a.example.com", "b.example.com"] } };\n`,
    line: 1,
  },
  {
    name: "an empty allow array",
    before: `export default { ${HEAD} egress: { allow: [] } };\n`,
    after: `export default { ${HEAD} egress: { allow: ["b.example.com"] } };\n`,
    line: 1,
  },
  {
    name: "an allow array over several lines, with a comment and a trailing comma, in single quotes",
    before: `export default {\n  ${HEAD}\n  egress: {\n    allow: [\n      'a.example.com', // the API\n    ],\n  },\n};\n`,
    after: `export default {\n  ${HEAD}\n  egress: {\n    allow: [\n      'a.example.com', // the API\n      'b.example.com',\n    ],\n  },\n};\n`,
    line: 6,
  },
  {
    name: "an allow array over several lines without a trailing comma, a comment after its last element",
    before: `export default {\n  ${HEAD}\n  egress: { allow: [\n    "a.example.com",\n    "c.example.com" /* docs */\n  ] },\n};\n`,
    after: `export default {\n  ${HEAD}\n  egress: { allow: [\n    "a.example.com",\n    "c.example.com", /* docs */\n    "b.example.com"\n  ] },\n};\n`,
    line: 6,
  },
  {
    name: "egress without allow, over several lines",
    before: `import { defineConfig } from "bottle";\nexport default defineConfig({\n  ${HEAD}\n  egress: {\n    presets: ["claude-code"],\n  },\n});\n`,
    after: `import { defineConfig } from "bottle";\nexport default defineConfig({\n  ${HEAD}\n  egress: {\n    allow: ["b.example.com"],\n    presets: ["claude-code"],\n  },\n});\n`,
    line: 5,
  },
  {
    name: "an empty egress object",
    before: `export default { ${HEAD} egress: {} };\n`,
    after: `export default { ${HEAD} egress: { allow: ["b.example.com"] } };\n`,
    line: 1,
  },
];

for (const shape of shapes) {
  test(`${shape.name}: HOST is added where a person would add it, the mode kept, and the config loads with it`, () => {
    const project = registered(shape.before);
    chmodSync(project.config, 0o640);
    const run = allow(project, "b.example.com");
    assert.is(run.code, 0, run.stderr);
    assert.is(readFileSync(project.config, "utf8"), shape.after);
    assert.match(run.stdout, `added "b.example.com" to egress.allow in ${project.config} (line ${shape.line})`);
    assert.match(run.stdout, "it takes effect when ba next starts (`bottle resume ba`)");
    assert.is(statSync(project.config).mode & 0o7777, 0o640);
    // Asked again, the config bottle loads allows it.
    const again = allow(project, "b.example.com");
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stdout, /b\.example\.com is already allowed by .* \(egress\.allow\[\d\]\); nothing changed/);
    assert.is(readFileSync(project.config, "utf8"), shape.after, "the second time changes nothing");
  });
}

test("a shape bottle does not edit (no egress, allow from a variable, a spread) is left as it was, with the exact line to add; exit 1", () => {
  for (const [source, says] of [
    [`export default { ${HEAD} };\n`, "add the line `egress: { allow: [\"b.example.com\"] },` to the object the config exports"],
    [`const hosts = ["a.example.com"];\nexport default { ${HEAD} egress: { allow: hosts } };\n`, 'add "b.example.com" to egress.allow at line 2 of'],
    [`const base = { allow: ["a.example.com"] };\nexport default { ${HEAD} egress: { ...base } };\n`, "spreads another object"],
  ] as const) {
    const project = registered(source);
    const before = snapshot(project.config);
    const run = allow(project, "b.example.com");
    assert.is(run.code, 1, run.stderr);
    assert.match(run.stderr, `bottle: did not edit ${project.config}`);
    assert.match(run.stderr, says);
    assert.is(snapshot(project.config), before, "not touched");
  }
});

test("already allowed, exactly, by a wildcard or by a preset: said, exit 0, nothing changed", () => {
  const project = registered(`export default { ${HEAD} egress: { presets: ["claude-code"], allow: ["a.example.com", "*.files.example.org"] } };\n`);
  const before = snapshot(project.config);
  for (const [host, by] of [
    ["a.example.com", "egress.allow[0]"],
    ["cdn.files.example.org", "egress.allow[1]"],
    ["files.example.org", "egress.allow[1]"],
    ["api.anthropic.com", "preset claude-code@1"],
  ]) {
    const run = allow(project, host!);
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, `${host} is already allowed by ${project.config} (${by}); nothing changed`);
  }
  assert.is(snapshot(project.config), before);
});

test("a host egress.allow refuses is a usage error before the config is read; so are missing arguments", () => {
  const project = registered(`export default { ${HEAD} egress: { allow: [] } };\n`);
  const before = snapshot(project.config);
  for (const [host, says] of [
    ["10.0.0.1", "is an IP address"],
    ["admin.localhost", "is under `localhost`"],
    ["*.com", "spans the public suffix `com`"],
    ["https://example.com/", "is not a host name"],
  ] as const) {
    const run = allow(project, host);
    assert.is(run.code, 2, `${host}: ${run.stderr}`);
    assert.match(run.stderr, `\`${host}\` cannot go in egress.allow: it ${says}`);
  }
  const missing = bottle(project, ["allow", "ba"]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, "bottle allow needs NAME and HOST");
  const unknown = bottle(project, ["allow", "nope", "b.example.com"]);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, "no bottle named `nope`");
  assert.is(snapshot(project.config), before);
  const help = bottle(project, ["allow", "--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^usage: bottle allow NAME HOST \[options\]/);
});

test("a host that takes writes from anyone is added with a warning", () => {
  const project = registered(`export default { ${HEAD} egress: { allow: [] } };\n`);
  const run = allow(project, "sentry.io");
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, `warning: ${project.config}: egress.allow[0]: \`sentry.io\` is Sentry's error-reporting intake`);
  assert.is(run.stderr.split("\n").filter((l) => l.startsWith("warning:")).length, 1, "said once, though the config is loaded twice");
  assert.match(readFileSync(project.config, "utf8"), 'allow: ["sentry.io"]');
});

test("a config that is a symlink is not edited through (the file it points to is untouched); exit 1", () => {
  const real = join(scratchDir("ba-real-"), "bottle.config.ts");
  writeFileSync(real, `export default { ${HEAD} egress: { allow: [] } };\n`);
  const project = makeProject({ name: "ba", env: {}, allow: [] });
  const link = join(project.dir, "linked.config.ts");
  symlinkSync(real, link);
  registerBottle({ slug: "ba", backend: "smolmachines", configPath: link, stageDir: project.stage, runDir: runDir("ba", project.env), octet: 1, writable: [], updatedAt: Date.now() }, project.env);
  const before = snapshot(real);
  const run = allow(project, "b.example.com");
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, `refusing to edit ${link}: it is a symlink (to ${real})`);
  assert.is(snapshot(real), before);
});

test("an edit the loaded config does not reflect is undone: the file is as it was, and it says why; exit 1", () => {
  // The literal is overwritten in code: appending to it changes nothing bottle loads.
  const source = `const config = { ${HEAD} egress: { allow: ["a.example.com"] } };\nconfig.egress.allow = ["z.example.com"];\nexport default config;\n`;
  const project = registered(source);
  const run = allow(project, "b.example.com");
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, `the edit of ${project.config} was undone (the file is as it was): egress.allow still does not hold "b.example.com"`);
  assert.is(readFileSync(project.config, "utf8"), source);
});

test("a config that is gone is said to be gone; exit 1", () => {
  const project = registered(`export default { ${HEAD} egress: { allow: [] } };\n`);
  unlinkSync(project.config);
  const run = allow(project, "b.example.com");
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, `${project.config}, the config \`ba\` was launched from, does not exist any more`);
  assert.not.ok(existsSync(project.config));
});

test("the registry entry's config must be the bottle's: one for another bottle is not edited", () => {
  const source = `export default { name: "other", image: "alpine:3", agent: { command: ["sh"] }, egress: { allow: [] } };\n`;
  const project = registered(source);
  const run = allow(project, "b.example.com");
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, "is the config of `other`, not of `ba`");
  assert.is(readFileSync(project.config, "utf8"), source);
});

test("a config inside a workspace a registered bottle's guest can write is refused before a line of it runs", () => {
  const project = makeProject({ name: "ba", env: {}, allow: [] });
  const workspace = join(project.dir, "ws");
  const planted = join(workspace, "bottle.config.ts");
  const ran = join(project.dir, "it-ran");
  mkdirSync(workspace, { recursive: true });
  writeFileSync(planted, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(ran)}, "x");\nexport default { ${HEAD} egress: { allow: [] } };\n`);
  registerBottle({ slug: "ba", backend: "smolmachines", configPath: planted, stageDir: project.stage, runDir: runDir("ba", project.env), octet: 1, writable: [workspace], updatedAt: Date.now() }, project.env);
  const run = allow(project, "b.example.com");
  assert.is(run.code, 2, run.stderr);
  assert.match(run.stderr, `refusing to load ${planted}: it is inside ${workspace}`);
  assert.not.ok(existsSync(ran), "the planted config never ran");
});

test.run();
