// The config layer: every class of bad config is rejected with one message
// per problem naming the field path (in-process and through the CLI, where
// it exits 2 and writes nothing); good configs load from anywhere; the
// evaluated-config cache is used only when that is safe.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fs, { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { validateConfig } from "../src/config/validate.js";
import { isCacheableSource } from "../src/config/cache.js";
import { loadConfig } from "../src/config/load.js";
import { isBottleError, type BottleError } from "../src/lib/errors.js";
import type { ConfigProblem } from "../src/config/errors.js";
import { describeRun, homeFor, listTree, type IsolatedHome, makeProject, runBottle, snapshotTree, validConfig, writeConfig } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

// loadConfig's cache lives under XDG_CACHE_HOME, and what it knows of configs' workspaces under XDG_STATE_HOME: keep both out of the real home.
process.env.XDG_CACHE_HOME = tempDir("bottle-cache-");
process.env.XDG_STATE_HOME = tempDir("bottle-state-");
delete process.env.BOTTLE_CONFIG_CACHE;

type Config = Record<string, unknown>;

function withConfig(change: (config: Config & { agent: Config }) => void): Config {
  const config = validConfig() as Config & { agent: Config };
  change(config);
  return config;
}

function problemsOf(raw: unknown, configDir = tempDir()): ConfigProblem[] {
  const result = validateConfig(raw, configDir);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return result.problems;
}

function assertOneProblemAt(problems: ConfigProblem[], path: string, message: string | RegExp): void {
  assert.is(problems.length, 1, JSON.stringify(problems));
  assert.is(problems[0]!.path, path);
  assert.match(problems[0]!.message, message);
}

async function loadError(path: string): Promise<BottleError<"config">> {
  try {
    await loadConfig(path, { cache: false });
  } catch (error) {
    if (isBottleError(error, "config")) return error;
    throw error;
  }
  throw new Error(`expected ${path} to fail to load`);
}

// ---------------------------------------------------------------------------
// In-process: validateConfig and loadConfig

test("the example-shaped config is valid and gets its defaults", () => {
  const result = validateConfig(validConfig(), "/tmp");
  assert.ok(result.ok);
  if (!result.ok) return;
  assert.is(result.config.backend, "smolmachines");
  assert.is(result.config.resources.cpus, 2);
  assert.equal(result.config.agent.secrets, {});
  assert.is(result.config.guest.gvforwarder, "image");
});

test("an unknown top-level key names itself and lists the known keys", () => {
  const [problem] = problemsOf({ ...validConfig(), nmae: "demo" });
  assert.is(problem!.path, "nmae");
  assert.match(problem!.message, "unknown key");
  assert.match(problem!.message, /known keys here: agent, backend, egress, gitGate, guest, image, name, network, resources, supervise, workspace/);
});

test("an unknown nested key names its full path and lists the keys known there", () => {
  const problems = problemsOf(withConfig((c) => (c.agent = { command: ["sh"], comand: ["sh"] })));
  assertOneProblemAt(problems, "agent.comand", /unknown key \(known keys here: command, env, secrets, workdir\)/);
  const deeper = problemsOf(withConfig((c) => (c.agent.secrets = { TOKEN: { fromEnv: "HOST_TOKEN", value: "x" } })));
  assertOneProblemAt(deeper, "agent.secrets.TOKEN.value", /unknown key \(known keys here: fromEnv, inject\)/);
  const inSidecar = problemsOf({ ...validConfig(), gitGate: { command: ["gate", "{port}"], comand: [] } });
  assertOneProblemAt(inSidecar, "gitGate.comand", /unknown key \(known keys here: command, env, ready, remotes\)/);
});

// ---------------------------------------------------------------------------
// gitGate.remotes: the built-in git gate

const GATE_REMOTE = { url: "https://git.example.com/team/app.git", token: { fromEnv: "GIT_TOKEN" }, push: ["agent/*"] };

test("gitGate.remotes is valid beside the sidecar form, with its defaults filled in", () => {
  const result = validateConfig({ ...validConfig(), gitGate: { remotes: { origin: GATE_REMOTE, "docs-site": { url: "https://git.example.com/team/docs", token: { fromEnv: "DOCS_TOKEN", username: "oauth2" } } } } }, "/tmp");
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  if (!result.ok) return;
  assert.equal(result.config.gitGate, {
    remotes: {
      origin: { url: GATE_REMOTE.url, token: { fromEnv: "GIT_TOKEN", username: "x-access-token" }, push: ["agent/*"], allowForcePush: false, allowDelete: false },
      "docs-site": { url: "https://git.example.com/team/docs", token: { fromEnv: "DOCS_TOKEN", username: "oauth2" }, push: [], allowForcePush: false, allowDelete: false },
    },
  });
});

test("gitGate.remotes: every bad url, pattern, name and key is one problem naming its field", () => {
  const problems = problemsOf({
    ...validConfig(),
    gitGate: {
      remotes: {
        Origin: { url: "git@github.com:team/app.git", token: { fromEnv: "GIT_TOKEN" }, push: ["agent/*", "a b", "x/**", "ends/", "x..y", "foo.lock", "@"] },
        plain: { url: "http://git.example.com/app.git", token: { fromEnv: "GIT_TOKEN" } },
        creds: { url: "https://user:pw@git.example.com/app.git", token: { fromEnv: "GIT_TOKEN" }, allowDelete: "yes" },
        typo: { ...GATE_REMOTE, pushes: ["x"] },
        notaurl: { url: "not a url", token: { from: "X" } },
        again: { ...GATE_REMOTE },
      },
    },
  });
  const at = (path: string): string => problems.filter((p) => p.path === path).map((p) => p.message).join(" / ");
  assert.match(at("gitGate.remotes.Origin"), "is not a valid remote name");
  assert.match(at("gitGate.remotes.Origin.url"), "ssh upstreams are not supported by the git gate");
  assert.is(at("gitGate.remotes.Origin.push[0]"), "");
  for (const index of [1, 2, 3, 4, 5, 6]) assert.match(at(`gitGate.remotes.Origin.push[${index}]`), "is not a ref glob");
  assert.match(at("gitGate.remotes.plain.url"), "must be an https:// URL");
  assert.match(at("gitGate.remotes.creds.url"), "must not hold a user name or password");
  assert.match(at("gitGate.remotes.creds.allowDelete"), "expected boolean");
  assert.match(at("gitGate.remotes.typo.pushes"), /unknown key \(known keys here: allowDelete, allowForcePush, push, token, url\)/);
  assert.match(at("gitGate.remotes.notaurl.url"), "is not a URL");
  assert.match(at("gitGate.remotes.notaurl.token.from"), "unknown key");
  assert.match(at("gitGate.remotes.again.url"), "is also the url of remote `origin`".replace("origin", "typo"));
  assert.match(at("gitGate.remotes.notaurl.token.fromEnv"), "is required");
  assert.is(problems.length, 16, JSON.stringify(problems, null, 1));
});

test("gitGate.remotes: an unknown key beside remotes, no remotes, and agent.env taking git's GIT_CONFIG_* variables are refused", () => {
  assertOneProblemAt(problemsOf({ ...validConfig(), gitGate: { remotes: { origin: GATE_REMOTE }, bogus: 1 } }), "gitGate.bogus", "unknown key");
  assertOneProblemAt(problemsOf({ ...validConfig(), gitGate: { remotes: {} } }), "gitGate.remotes", "must name at least one remote");
  const taken = withConfig((c) => ((c.agent.env = { GIT_CONFIG_COUNT: "1" }), (c.gitGate = { remotes: { origin: GATE_REMOTE } })));
  assertOneProblemAt(problemsOf(taken), "agent.env.GIT_CONFIG_COUNT", "must not be set with gitGate.remotes");
  // Plain http is for a loopback upstream only (a local mirror, a test).
  assert.ok(validateConfig({ ...validConfig(), gitGate: { remotes: { origin: { ...GATE_REMOTE, url: "http://127.0.0.1:8080/app.git" } } } }, "/tmp").ok);
});

const BAD_SLUGS: [string, string][] = [
  ["..", "dot-dot"],
  ["a/b", "a slash"],
  ["with space", "a space"],
  ["Upper", "upper case"],
  ["", "empty"],
  ["a".repeat(41), "41 characters"],
  ["-lead", "a leading hyphen"],
  ["trail-", "a trailing hyphen"],
  ["double--hyphen", "a double hyphen"],
];

for (const [slug, what] of BAD_SLUGS) {
  test(`a name with ${what} is rejected as one problem naming \`name\``, () => {
    const problems = problemsOf({ ...validConfig(), name: slug });
    assert.is(problems.length, 1, JSON.stringify(problems));
    assert.is(problems[0]!.path, "name");
    assert.match(problems[0]!.message, /lowercase letters, digits and single hyphens|must not be empty|at most 40 characters/);
  });
}

test("names at the edges of the slug rule are accepted", () => {
  for (const slug of ["a", "a".repeat(40), "my-agent-2", "0"]) {
    assert.ok(validateConfig({ ...validConfig(), name: slug }, "/tmp").ok, slug);
  }
});

test("wrong types name the field and what is expected", () => {
  const problems = problemsOf({ ...validConfig(), resources: { cpus: "2", memoryMiB: 1.5 } });
  assert.equal(
    problems.map((p) => p.path),
    ["resources.cpus", "resources.memoryMiB"],
  );
  assert.match(problems[0]!.message, "expected a whole number");
  assert.match(problems[1]!.message, "expected a whole number of MiB");
});

test("egress.allow entries with a scheme, a port or a path are each rejected; wildcards are not", () => {
  const problems = problemsOf({ ...validConfig(), egress: { allow: ["https://a.example.com", "a.example.com:443", "a.example.com/path", "*.ok.example.com", "ok.example.com"] } });
  assert.equal(
    problems.map((p) => p.path),
    ["egress.allow[0]", "egress.allow[1]", "egress.allow[2]"],
  );
  for (const p of problems) assert.match(p.message, "no scheme, port or path");
});

test("a sidecar command without {port} is rejected at its command", () => {
  assertOneProblemAt(problemsOf({ ...validConfig(), gitGate: { command: ["git-gate", "--listen", "8080"] } }), "gitGate.command", "{port}");
  assertOneProblemAt(problemsOf({ ...validConfig(), supervise: { command: ["supervise"] } }), "supervise.command", "{port}");
  assert.ok(validateConfig({ ...validConfig(), supervise: { command: ["supervise", "--port={port}"] }, gitGate: false }, "/tmp").ok);
});

test("a sidecar that is neither false nor a spec, or has a bad env value, is named precisely", () => {
  assertOneProblemAt(problemsOf({ ...validConfig(), gitGate: true }), "gitGate", /expected `false`, `{ remotes: .* } }` or a sidecar spec/);
  assertOneProblemAt(problemsOf({ ...validConfig(), supervise: { command: ["s", "{port}"], env: { TOKEN: 7 } } }), "supervise.env.TOKEN", "fromEnv");
});

test("agent.env may not set the proxy variables", () => {
  for (const name of ["HTTPS_PROXY", "http_proxy"]) {
    assertOneProblemAt(problemsOf(withConfig((c) => (c.agent.env = { [name]: "http://evil:1" }))), "agent.env", name === "HTTPS_PROXY" ? "HTTPS_PROXY" : "http_proxy");
  }
});

test("an env name that is not a variable name says what a name must be", () => {
  assertOneProblemAt(problemsOf(withConfig((c) => (c.agent.env = { "NOT-A-NAME": "1" }))), "agent.env.NOT-A-NAME", "not a valid environment variable name");
});

test("a secret also set in agent.env is rejected at the secret", () => {
  const problems = problemsOf(withConfig((c) => ((c.agent.env = { API_TOKEN: "plain" }), (c.agent.secrets = { API_TOKEN: { fromEnv: "HOST_TOKEN" } }))));
  assertOneProblemAt(problems, "agent.secrets.API_TOKEN", "also set in agent.env");
});

test("a secret given as a value instead of a reference is rejected", () => {
  assertOneProblemAt(problemsOf(withConfig((c) => (c.agent.secrets = { API_TOKEN: "sk-literal" }))), "agent.secrets.API_TOKEN", 'expected `{ fromEnv: "HOST_VAR" }`');
});

test("a workspace.host that does not exist is rejected, resolved against the config dir", () => {
  const dir = tempDir();
  const problems = problemsOf({ ...validConfig(), workspace: { host: "no-such-dir", guest: "/workspace" } }, dir);
  assertOneProblemAt(problems, "workspace.host", `${join(dir, "no-such-dir")} is not an existing directory`);
  mkdirSync(join(dir, "src"));
  assert.ok(validateConfig({ ...validConfig(), workspace: { host: "src", guest: "/workspace" } }, dir).ok);
});

test("several problems at once give one problem each", () => {
  const problems = problemsOf({
    name: "Bad Name",
    image: 3,
    agent: { command: ["sh"], comand: [] },
    resources: { cpus: "2" },
    egress: { allow: ["https://x.example.com"] },
  });
  assert.equal(
    problems.map((p) => p.path),
    ["name", "image", "agent.comand", "resources.cpus", "egress.allow[0]"],
  );
});

test("a default export that is not an object is rejected as a whole", () => {
  for (const raw of [42, "demo", null, [], () => ({})]) {
    assertOneProblemAt(problemsOf(raw), "", "the default export must be a config object");
  }
});

test("loadConfig: a config that throws names the file and the error", async () => {
  const dir = makeProject(`throw new Error("kaboom while configuring");\n`);
  const error = await loadError(join(dir, "bottle.config.ts"));
  assert.is(error.exitCode, 2);
  assert.match(error.message, join(dir, "bottle.config.ts"));
  assert.match(error.message, "kaboom while configuring");
});

test("loadConfig: a file with no default export says so instead of validating its named exports", async () => {
  const dir = makeProject(`export const config = { name: "demo" };\n`);
  const error = await loadError(join(dir, "bottle.config.ts"));
  assert.equal(error.detail.problems, [{ path: "", message: "has no default export: write `export default defineConfig({ ... })`" }]);
});

test("loadConfig: a missing file says so", async () => {
  const dir = tempDir();
  const error = await loadError(join(dir, "nope.config.ts"));
  assert.match(error.message, join(dir, "nope.config.ts"));
  assert.match(error.message, "no such file");
});

test("loadConfig: a plain `export default {...}` loads", async () => {
  const dir = makeProject(validConfig());
  const loaded = await loadConfig(join(dir, "bottle.config.ts"), { cache: false });
  assert.is(loaded.config.name, "demo");
  assert.is(loaded.config.agent.env.GREETING, "hello");
  assert.is(loaded.dir, dir);
});

test("loadConfig: a config anywhere may import defineConfig from \"bottle\" and local files", async () => {
  const dir = tempDir("elsewhere-");
  writeFileSync(join(dir, "hosts.ts"), `export const hosts: string[] = ["api.example.com"];\n`);
  const path = writeConfig(
    dir,
    `import { defineConfig } from "bottle";\nimport { hosts } from "./hosts";\nexport default defineConfig({ name: "far-away", image: "alpine", agent: { command: ["sh"] }, egress: { allow: hosts } });\n`,
    "my-bottle.ts",
  );
  const loaded = await loadConfig(path, { cache: false });
  assert.is(loaded.config.name, "far-away");
  assert.equal(loaded.config.egress.allow, ["api.example.com"]);
  assert.equal(loaded.files, [path, join(dir, "hosts.ts")]);
});

// ---------------------------------------------------------------------------
// The evaluated-config cache

test("cache: the second load of an unchanged config comes from the cache, with the same value", async () => {
  const path = join(makeProject(validConfig()), "bottle.config.ts");
  const first = await loadConfig(path);
  const second = await loadConfig(path);
  assert.is(first.fromCache, false);
  assert.is(second.fromCache, true);
  assert.equal(second.config, first.config);
});

test("cache: a changed config file is evaluated again", async () => {
  const dir = makeProject(validConfig());
  const path = join(dir, "bottle.config.ts");
  await loadConfig(path);
  assert.is((await loadConfig(path)).fromCache, true);
  writeConfig(dir, { ...validConfig(), image: "alpine:edge" });
  const changed = await loadConfig(path);
  assert.is(changed.fromCache, false);
  assert.is(changed.config.image, "alpine:edge");
  assert.is((await loadConfig(path)).fromCache, true);
});

test("cache: a changed local import is evaluated again", async () => {
  const dir = makeProject(
    `import { hosts } from "./hosts";\nexport default { name: "demo", image: "alpine", agent: { command: ["sh"] }, egress: { allow: hosts } };\n`,
    { "hosts.ts": `export const hosts = ["one.example.com"];\n` },
  );
  const path = join(dir, "bottle.config.ts");
  await loadConfig(path);
  assert.is((await loadConfig(path)).fromCache, true);
  writeFileSync(join(dir, "hosts.ts"), `export const hosts = ["two.example.com"];\n`);
  const changed = await loadConfig(path);
  assert.is(changed.fromCache, false);
  assert.equal(changed.config.egress.allow, ["two.example.com"]);
});

test("cache: a config that reads process.env is never served from the cache", async () => {
  const dir = makeProject(`export default { name: "demo", image: process.env.BOTTLE_TEST_IMAGE ?? "alpine", agent: { command: ["sh"] } };\n`);
  const path = join(dir, "bottle.config.ts");
  process.env.BOTTLE_TEST_IMAGE = "first:1";
  try {
    assert.is((await loadConfig(path)).fromCache, false);
    process.env.BOTTLE_TEST_IMAGE = "second:2";
    const again = await loadConfig(path);
    assert.is(again.fromCache, false);
    assert.is(again.config.image, "second:2");
  } finally {
    delete process.env.BOTTLE_TEST_IMAGE;
  }
});

test("cache: BOTTLE_CONFIG_CACHE=0 turns it off", async () => {
  const path = join(makeProject(validConfig()), "bottle.config.ts");
  process.env.BOTTLE_CONFIG_CACHE = "0";
  try {
    await loadConfig(path);
    assert.is((await loadConfig(path)).fromCache, false);
  } finally {
    delete process.env.BOTTLE_CONFIG_CACHE;
  }
  await loadConfig(path);
  assert.is((await loadConfig(path)).fromCache, true);
});

// Sources whose value could differ on the next evaluation: each reaches the
// environment, the clock, randomness, the file system or arbitrary code.
const IMPURE_SOURCES = [
  `export default { image: process.env.IMAGE };`,
  `export default { image: String(Date.now()) };`,
  `export default { image: String(Math.random()) };`,
  `export default { image: crypto.randomUUID() };`,
  `export default { image: require("node:os").hostname() };`,
  `const load = require;\nexport default { image: load("node:fs").readFileSync("/etc/hostname", "utf8") };`,
  `export default { image: module.constructor._load("node:os").hostname() };`,
  `export default { image: await import("node:os").then((os) => os.hostname()) };`,
  `export default { image: await fetch("https://example.com").then((r) => r.text()) };`,
  `export default { image: globalThis["pro" + "cess"].env.IMAGE };`,
  `export default { image: global["pro" + "cess"].env.IMAGE };`,
  `export default { image: eval("pro" + "cess").env.IMAGE };`,
  `export default { image: new Function("return pro" + "cess")().env.IMAGE };`,
  `export default { image: String(performance.now()) };`,
  `export default { image: new Intl.DateTimeFormat().resolvedOptions().timeZone };`,
  `export default { image: (1234.5).toLocaleString() };`,
  `import { hostname } from "node:os";\nexport default { image: hostname() };`,
  `import {\n  thing,\n} from "some-package";\nexport default thing;`,
];

test("cacheable-source rule: what could evaluate differently next time is not cacheable", () => {
  for (const source of IMPURE_SOURCES) assert.is(isCacheableSource(source), false, source);
});

test("cacheable-source rule: plain data, relative imports and \"bottle\" are cacheable", () => {
  for (const source of [
    `export default { name: "demo", image: "alpine", agent: { command: ["sh"] } };`,
    `import { defineConfig } from "bottle";\nimport { hosts } from "./hosts";\nexport default defineConfig({ egress: { allow: [...hosts, "x.example.com"] } });`,
    `export * from "../shared/config";`,
    `import data from "./data.json" with { type: "json" };\nexport default data;`,
  ]) {
    assert.is(isCacheableSource(source), true, source);
  }
});

test("cache: a cached config whose workspace dir has gone is still rejected", async () => {
  const dir = makeProject({ ...validConfig(), workspace: { host: "work", guest: "/workspace" } }, { "work/README": "hi\n" });
  const path = join(dir, "bottle.config.ts");
  await loadConfig(path);
  assert.is((await loadConfig(path)).fromCache, true);
  rmSync(join(dir, "work"), { recursive: true });
  try {
    await loadConfig(path);
    assert.unreachable("a missing workspace dir must be reported even from the cache");
  } catch (error) {
    assert.ok(isBottleError(error, "config"));
    assert.is(error.detail.problems[0]?.path, "workspace.host");
  }
});

/**
 * An editor saving `file` while bottle evaluates it: jiti's next read of
 * `file` gets the text it had, and right after that the file holds
 * `newText`. Patches the CommonJS fs object jiti reads through; bottle's own
 * ESM imports of node:fs are separate bindings and are left alone.
 */
function saveDuringNextEvaluation(file: string, newText: string): { saved: boolean } {
  const original = fs.readFileSync;
  const state = { saved: false };
  fs.readFileSync = function (this: unknown, ...args: Parameters<typeof original>) {
    const text = original.apply(this, args);
    if (args[0] === file) {
      fs.readFileSync = original;
      fs.writeFileSync(file, newText);
      state.saved = true;
    }
    return text;
  } as typeof original;
  return state;
}

test("cache: a config saved while it is being evaluated is not cached under its new text", async () => {
  const dir = makeProject({ ...validConfig(), image: "old:1" });
  const path = join(dir, "bottle.config.ts");
  const edit = saveDuringNextEvaluation(path, `export default ${JSON.stringify({ ...validConfig(), image: "new:2" })};\n`);
  const during = await loadConfig(path);
  assert.ok(edit.saved, "the file was saved mid-evaluation");
  assert.is(during.config.image, "old:1");
  assert.is((await loadConfig(path)).config.image, "new:2", "the next load sees what the file holds");
});

test("cache: a local import saved while it is being evaluated is not cached under its new text", async () => {
  const dir = makeProject(
    `import { hosts } from "./hosts";\nexport default { name: "demo", image: "alpine", agent: { command: ["sh"] }, egress: { allow: hosts } };\n`,
    { "hosts.ts": `export const hosts = ["one.example.com"];\n` },
  );
  const path = join(dir, "bottle.config.ts");
  const hosts = join(dir, "hosts.ts");
  await loadConfig(path);
  assert.is((await loadConfig(path)).fromCache, true);
  writeFileSync(hosts, `export const hosts = ["two.example.com"];\n`);
  const edit = saveDuringNextEvaluation(hosts, `export const hosts = ["three.example.com"];\n`);
  assert.equal((await loadConfig(path)).config.egress.allow, ["two.example.com"]);
  assert.ok(edit.saved, "the import was saved mid-evaluation");
  assert.equal((await loadConfig(path)).config.egress.allow, ["three.example.com"], "the next load sees what the import holds");
});

/** A private copy of the compiled config modules (and what they import), to touch without disturbing dist/. */
function copyOfConfigModules(): string {
  const src = fileURLToPath(new URL("../src/", import.meta.url));
  const root = tempDir("config-copy-");
  mkdirSync(join(root, "src"));
  // The config modules import nothing of bottle but src/lib (the import-direction test keeps it so).
  for (const dir of ["config", "lib"]) cpSync(join(src, dir), join(root, "src", dir), { recursive: true });
  cpSync(join(src, "index.js"), join(root, "src", "index.js"));
  writeFileSync(join(root, "package.json"), `{ "type": "module" }\n`);
  symlinkSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(root, "node_modules"));
  return root;
}

test("cache: a served value is validated by the schema of the bottle that serves it", async () => {
  const older = copyOfConfigModules();
  const { loadConfig: loadWithOlder } = (await import(pathToFileURL(join(older, "src/config/load.js")).href)) as typeof import("../src/config/load.js");
  const path = join(makeProject(validConfig()), "bottle.config.ts");
  await loadWithOlder(path);
  assert.is((await loadWithOlder(path)).fromCache, true);
  // Control: another install of the same validator (same sources, other place) is served the value.
  const same = copyOfConfigModules();
  const { loadConfig: loadWithSame } = (await import(pathToFileURL(join(same, "src/config/load.js")).href)) as typeof import("../src/config/load.js");
  assert.is((await loadWithSame(path)).fromCache, true);
  // A newer bottle whose egress rule refuses what the older one accepted.
  const newer = copyOfConfigModules();
  const rule = join(newer, "src/config/egress-host.js");
  writeFileSync(rule, readFileSync(rule, "utf8").replace("export function egressHostProblem(entry) {", 'export function egressHostProblem(entry) {\n    return "refused by a newer rule";'));
  const { loadConfig: loadWithNewer } = (await import(pathToFileURL(join(newer, "src/config/load.js")).href)) as typeof import("../src/config/load.js");
  try {
    await loadWithNewer(path);
    assert.unreachable("the cached value passed a schema that refuses it");
  } catch (error) {
    assert.match((error as Error).message, "egress.allow[0]: refused by a newer rule");
  }
});

// ---------------------------------------------------------------------------
// Through the CLI: exit 2, the problems on stderr, nothing written

/**
 * What bottle wrote under an isolated home, leaving out the empty XDG dirs
 * themselves and jiti's private transpile cache (compiled source keyed by
 * its hash: a compiler cache, like __pycache__, never a config value).
 */
function writtenUnder(home: IsolatedHome): string[] {
  const base = ["cache/", "run/", "state/", "tmp/", "cache/bottle/", "cache/bottle/jiti/"];
  return listTree(home.root).filter((path) => !base.includes(path) && !path.startsWith("cache/bottle/jiti/"));
}

interface BadConfigCase {
  what: string;
  config: string | object;
  files?: Record<string, string>;
  args?: string[];
  /** Each must appear on stderr. */
  expect: (string | RegExp)[];
  /** The number of problem lines, when known. */
  problems?: number;
  /** The config itself is valid, so loading it may fill the evaluated-config cache. */
  validConfig?: true;
}

const BAD_CONFIGS: BadConfigCase[] = [
  { what: "an unknown top-level key", config: { ...validConfig(), nmae: "x" }, expect: ["nmae: unknown key", "known keys here: agent, backend"], problems: 1 },
  { what: "an unknown nested key", config: withConfig((c) => (c.agent.comand = ["x"])), expect: ["agent.comand: unknown key (known keys here: command, env, secrets, workdir)"], problems: 1 },
  ...BAD_SLUGS.map(([slug, what]): BadConfigCase => ({ what: `a name with ${what}`, config: { ...validConfig(), name: slug }, expect: [/ {2}- name: /], problems: 1 })),
  { what: "cpus as a string", config: { ...validConfig(), resources: { cpus: "2" } }, expect: ["resources.cpus: expected a whole number"], problems: 1 },
  { what: "fractional memoryMiB", config: { ...validConfig(), resources: { memoryMiB: 1.5 } }, expect: ["resources.memoryMiB: expected a whole number of MiB"], problems: 1 },
  { what: "egress.allow with a scheme", config: { ...validConfig(), egress: { allow: ["https://example.com"] } }, expect: ["egress.allow[0]: is not a host name"], problems: 1 },
  { what: "egress.allow with a port", config: { ...validConfig(), egress: { allow: ["example.com:443"] } }, expect: ["egress.allow[0]: is not a host name"], problems: 1 },
  { what: "egress.allow with a path", config: { ...validConfig(), egress: { allow: ["ok.example.com", "example.com/v1"] } }, expect: ["egress.allow[1]: is not a host name"], problems: 1 },
  { what: "a sidecar command without {port}", config: { ...validConfig(), gitGate: { command: ["git-gate"] } }, expect: ["gitGate.command: must contain a `{port}` placeholder"], problems: 1 },
  {
    what: "a git gate remote with an ssh url and a bad branch pattern",
    config: { ...validConfig(), gitGate: { remotes: { origin: { url: "git@github.com:team/app.git", token: { fromEnv: "GIT_TOKEN" }, push: ["agent/**"] } } } },
    expect: ["gitGate.remotes.origin.url: ssh upstreams are not supported", "gitGate.remotes.origin.push[0]: is not a ref glob"],
    problems: 2,
  },
  { what: "agent.env setting HTTPS_PROXY", config: withConfig((c) => (c.agent.env = { HTTPS_PROXY: "http://evil:1" })), expect: ["agent.env: must not set HTTPS_PROXY"], problems: 1 },
  {
    what: "a secret also in env",
    config: withConfig((c) => ((c.agent.env = { API_TOKEN: "x" }), (c.agent.secrets = { API_TOKEN: { fromEnv: "HOST_TOKEN" } }))),
    expect: ["agent.secrets.API_TOKEN: is also set in agent.env"],
    problems: 1,
  },
  { what: "a workspace.host that does not exist", config: { ...validConfig(), workspace: { host: "missing-dir", guest: "/workspace" } }, expect: ["workspace.host: ", "missing-dir is not an existing directory"], problems: 1 },
  {
    what: "several problems",
    config: { name: "Nope!", image: "", agent: { command: [] }, resources: { cpus: 0 } },
    expect: ["4 problems", "  - name: ", "  - image: ", "  - agent.command: ", "  - resources.cpus: "],
    problems: 4,
  },
  { what: "a default export that is not an object", config: `export default "demo";\n`, expect: ["the default export must be a config object"], problems: 1 },
  { what: "no default export", config: `export const name = "demo";\n`, expect: ["has no default export"], problems: 1 },
  { what: "a config that throws", config: `throw new Error("config exploded on purpose");\n`, expect: ["bottle.config.ts: 1 problem", "config exploded on purpose"], problems: 1 },
  { what: "a config with a syntax error", config: `export default { name: "demo",\n`, expect: ["bottle.config.ts: 1 problem", "failed to load"] },
  { what: "a missing --config file", config: validConfig(), args: ["--config", "elsewhere.config.ts"], expect: ["elsewhere.config.ts: 1 problem", "no such file"], problems: 1 },
  {
    what: "an unknown backend in the config",
    config: { ...validConfig(), backend: "nope" },
    expect: ["unknown backend `nope`", "the config's `backend`", "known backends: smolmachines"],
    validConfig: true,
  },
];

for (const bad of BAD_CONFIGS) {
  test(`CLI: ${bad.what} → exit 2, the problem on stderr, nothing written`, () => {
    const dir = makeProject(bad.config, bad.files);
    const home = homeFor(dir);
    const before = snapshotTree(dir);
    const run = runBottle(["build", ...(bad.args ?? [])], { cwd: dir });
    assert.is(run.code, 2, describeRun(run));
    for (const text of bad.expect) assert.match(run.stderr, text, describeRun(run));
    if (bad.problems !== undefined) {
      assert.is(run.stderr.split("\n").filter((line) => line.startsWith("  - ")).length, bad.problems, describeRun(run));
    }
    assert.is(run.stdout, "", "nothing on stdout");
    assert.equal(snapshotTree(dir), before, "the project dir is unchanged");
    assert.not.ok(existsSync(join(dir, ".bottle")), "no .bottle dir");
    if (!bad.validConfig) assert.equal(writtenUnder(home), [], "nothing under the isolated XDG dirs and TMPDIR");
  });
}

test("CLI: no config in the current dir → exit 2 suggesting --config, nothing written", () => {
  const dir = tempDir();
  const run = runBottle(["build"], { cwd: dir });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, `no bottle.config.ts in ${dir}, and it is in no project \`bottle init\` set up; pass --config PATH`);
  assert.equal(readdirSync(dir), []);
});

test("CLI: BOTTLE_BACKEND=nope → exit 2 naming the known backends, nothing written", () => {
  const dir = makeProject(validConfig());
  const before = snapshotTree(dir);
  const run = runBottle(["build"], { cwd: dir, env: { BOTTLE_BACKEND: "nope" } });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "unknown backend `nope` (from BOTTLE_BACKEND=nope); known backends: smolmachines");
  assert.equal(snapshotTree(dir), before);
});

test("CLI: a bad config is reported the same by graph and explain", () => {
  const dir = makeProject({ ...validConfig(), name: "Upper" });
  for (const command of [["graph"], ["explain"], ["build", "--dry-run"], ["build", "--json"]]) {
    const run = runBottle(command, { cwd: dir });
    assert.is(run.code, 2, describeRun(run));
    assert.match(run.stderr, "  - name: must be lowercase letters");
  }
  assert.equal(listTree(dir), ["bottle.config.ts"]);
});

test("CLI: --config may point outside any project and import \"bottle\"", () => {
  const elsewhere = tempDir("elsewhere-");
  const path = writeConfig(
    elsewhere,
    `import { defineConfig } from "bottle";\nexport default defineConfig({ name: "far-away", image: "alpine", agent: { command: ["sh"] } });\n`,
    "far.config.ts",
  );
  const cwd = tempDir();
  const run = runBottle(["build", "--config", path], { cwd });
  assert.is(run.code, 0, describeRun(run));
  assert.ok(existsSync(join(elsewhere, ".bottle", "far-away", "smolfile.toml")), "the stage dir is next to the config, named by it");
  assert.equal(readdirSync(cwd), []);
});

test("CLI: loading a config writes nothing to the shared temp dir; jiti's transpile cache is private", () => {
  // Read from the environment, so never served from the config cache: jiti evaluates it each time, with its cache from the second on.
  const dir = makeProject(`export default { name: "demo", image: process.env.IMAGE ?? "alpine:3.20", agent: { command: ["sh"] } };\n`);
  const home = homeFor(dir);
  for (let i = 0; i < 2; i++) {
    const run = runBottle(["graph"], { cwd: dir });
    assert.is(run.code, 0, describeRun(run));
  }
  assert.equal(listTree(home.TMPDIR), [], "no world-readable copy of the config in os.tmpdir()/jiti");
  const transpiled = join(home.XDG_CACHE_HOME, "bottle", "jiti");
  assert.is(statSync(transpiled).mode & 0o777, 0o700);
  assert.is(statSync(join(home.XDG_CACHE_HOME, "bottle")).mode & 0o777, 0o700);
  assert.is(listTree(transpiled).length, 1);
});

test("CLI: a valid config is cached in XDG_CACHE_HOME; one that reads process.env is not; BOTTLE_CONFIG_CACHE=0 writes no cache at all", () => {
  const cacheFiles = (dir: string): string[] => listTree(homeFor(dir).XDG_CACHE_HOME).filter((p) => p.endsWith(".json"));
  const pure = makeProject(validConfig());
  assert.is(runBottle(["explain"], { cwd: pure }).code, 0);
  assert.is(cacheFiles(pure).length, 1);

  const impure = makeProject(`export default { name: "demo", image: process.env.IMAGE ?? "alpine", agent: { command: ["sh"] } };\n`);
  assert.is(runBottle(["explain"], { cwd: impure }).code, 0);
  assert.equal(cacheFiles(impure), []);

  const off = makeProject(validConfig());
  assert.is(runBottle(["explain"], { cwd: off, env: { BOTTLE_CONFIG_CACHE: "0" } }).code, 0);
  assert.equal(listTree(homeFor(off).XDG_CACHE_HOME), []);
});

test.run();
