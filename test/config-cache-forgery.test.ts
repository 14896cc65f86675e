// Issue 9, point 8: forged entries in the evaluated-config cache. An entry
// holds the validated config and is served only when its first file is the
// config itself, every hash matches, the validator that validated it is this
// one, and its seal (a hash of all of that and the value) matches; and a
// cache dir that fails the run dir's checks (yours, 0700, no one else can
// write above it) or lies in a guest-writable workspace is not used (with a
// warning).
//
// Issue 18, point 3: a served value is no longer validated again (a no-op
// command loads no schema library). The seal is no secret, so each forgery
// below that a rule other than the seal must stop is sealed again, as its
// forger could: only the rule under test stands between it and the build.
// A forger who passes every rule can write bottle's private cache dir, so
// could already run code as you (cache.ts says why).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { makeUser } from "./helpers/users.js";
import { sealOf } from "../src/config/cache.js";
import { validateConfig } from "../src/config/validate.js";
import { validatorFingerprint } from "../src/config/validator-fingerprint.js";
import { homeFor, makeProject, runBottle, validConfig, writeConfig } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

interface Entry {
  format: number;
  configPath: string;
  files: { path: string; hash: string }[];
  validator: string;
  config: Record<string, any>;
  warnings: unknown[];
  seal: string;
}

function cached(project: string): { path: string; entry: Entry } {
  const dir = join(homeFor(project).XDG_CACHE_HOME, "bottle", "config");
  const names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  assert.is(names.length, 1, `one cache entry in ${dir}`);
  const path = join(dir, names[0]!);
  return { path, entry: JSON.parse(readFileSync(path, "utf8")) as Entry };
}

/** Edits the project's entry and, unless `reseal` is false, seals it again as bottle would. */
function forge(project: string, edit: (entry: Entry) => void, { reseal = true } = {}): void {
  const { path, entry } = cached(project);
  edit(entry);
  if (reseal) entry.seal = sealOf(entry as never);
  writeFileSync(path, JSON.stringify(entry));
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
const forgeAllow = (host: string) => (e: Entry) => (e.config.egress.allow = [host]);

const allowlist = (project: string): string => readFileSync(join(project, ".bottle", "demo", "pipelock.yaml"), "utf8");

/** A project built once, so its cache entry exists. */
function builtProject(): string {
  const project = makeProject(validConfig(), { "hosts.ts": "export const extra = 1;\n" });
  const first = runBottle(["build", "--json"], { cwd: project });
  assert.is(first.code, 0, first.stderr);
  return project;
}

test("control: an entry whose hashes match, validated by this validator and sealed, is served as it is (so the refusals below are real)", () => {
  const project = builtProject();
  forge(project, forgeAllow("served.example.net"));
  assert.is(runBottle(["build"], { cwd: project }).code, 0);
  assert.match(allowlist(project), "served.example.net");
});

test("an entry with an empty file list is not served", () => {
  const project = builtProject();
  forge(project, (e) => {
    e.files = [];
    e.config.egress.allow = ["forged.example.net"];
  });
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.not.match(allowlist(project), "forged.example.net");
  assert.match(allowlist(project), "example.com");
});

test("an entry whose first file is not the config is not served", () => {
  const project = builtProject();
  const other = join(project, "hosts.ts");
  const hash = spawnSync("sha256sum", [other], { encoding: "utf8" }).stdout.split(" ")[0]!;
  forge(project, (e) => {
    e.files = [{ path: other, hash }];
    e.config.egress.allow = ["forged.example.net"];
  });
  assert.is(runBottle(["build"], { cwd: project }).code, 0);
  assert.not.match(allowlist(project), "forged.example.net");
});

test("an entry whose file hash is not the file's is not served", () => {
  const project = builtProject();
  forge(project, (e) => {
    e.files[0]!.hash = sha("export default {};\n");
    e.config.egress.allow = ["forged.example.net"];
  });
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.not.match(allowlist(project), "forged.example.net");
  assert.equal(cached(project).entry.config.egress.allow, ["example.com"], "the entry was replaced by a fresh evaluation");
});

test("an edited value whose seal no longer matches is not served: egress.allow [\"*.com\"] is never rendered", () => {
  const project = builtProject();
  forge(project, forgeAllow("*.com"), { reseal: false });
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.not.match(allowlist(project), "*.com");
  assert.equal(cached(project).entry.config.egress.allow, ["example.com"], "the entry was replaced by a fresh evaluation");
});

test("an entry another validator validated (another bottle, schema or zod) is not served", () => {
  const project = builtProject();
  forge(project, (e) => {
    e.validator = sha("another bottle's validator");
    e.config.egress.allow = ["forged.example.net"];
  });
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.not.match(allowlist(project), "forged.example.net");
  assert.equal(cached(project).entry.validator, validatorFingerprint(), "the entry was replaced by a fresh evaluation");
});

test("a cache dir with mode 0777 is not used, with a warning", () => {
  const project = builtProject();
  forge(project, forgeAllow("forged.example.net"));
  const dir = join(homeFor(project).XDG_CACHE_HOME, "bottle", "config");
  chmodSync(dir, 0o777);
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, `warning: refusing to use the config cache ${dir}: ${dir} has mode 0777: other users could read or change what is in it`);
  assert.not.match(allowlist(project), "forged.example.net");
});

test("a jiti transpile cache dir with group or other bits is not used, with a warning", () => {
  const project = makeProject(`import { extra } from "./hosts.js";\nexport default { name: "demo", image: "a", agent: { command: ["sh"] }, egress: { allow: ["h" + extra + ".example.com"] } };\n`, { "hosts.ts": "export const extra = 1;\n" });
  const dir = join(homeFor(project).XDG_CACHE_HOME, "bottle", "jiti");
  // The first evaluation uses no cache (the config's workspaces are not known yet); the next, after an edit, fills jiti's.
  assert.is(runBottle(["build"], { cwd: project }).code, 0);
  writeFileSync(join(project, "hosts.ts"), "export const extra = 2;\n");
  assert.is(runBottle(["build"], { cwd: project }).code, 0);
  chmodSync(dir, 0o750);
  writeFileSync(join(project, "hosts.ts"), "export const extra = 3;\n");
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, `warning: refusing to use the transpile cache ${dir}: ${dir} has mode 0750`);
  assert.match(allowlist(project), "h3.example.com");
});

test("a cache inside the config's own writable workspace is neither served nor written (its guest could forge entries)", () => {
  const project = makeProject(validConfig());
  const home = homeFor(project);
  const config = { ...validConfig(), workspace: { host: home.XDG_CACHE_HOME, guest: "/cache" } };
  const configPath = writeConfig(project, config);
  // The guest's forgery: an entry with matching hashes and its own allowlist, validated and sealed as bottle would.
  const dir = join(home.XDG_CACHE_HOME, "bottle", "config");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const validated = validateConfig({ ...config, egress: { allow: ["forged.example.net"] } }, project);
  assert.ok(validated.ok);
  const unsealed = {
    format: 3,
    configPath,
    files: [{ path: configPath, hash: sha(readFileSync(configPath, "utf8")) }],
    validator: validatorFingerprint(),
    config: validated.config,
    warnings: validated.warnings,
  };
  writeFileSync(join(dir, `${sha(configPath).slice(0, 24)}.json`), JSON.stringify({ ...unsealed, seal: sealOf(unsealed) }));
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, `warning: not using the config cache: ${dir} is inside the workspace ${home.XDG_CACHE_HOME}`);
  assert.not.match(run.stderr + run.stdout, "forged.example.net");
  assert.equal(cached(project).entry.config.egress.allow, ["forged.example.net"], "bottle wrote no entry there");
});

test("bottle's caches inside a known guest-writable dir are not used (checked before evaluating)", async () => {
  const { loadConfig } = await import("../src/config/load.js");
  const saved = process.env.XDG_CACHE_HOME;
  const shared = tempDir("bottle-ws-");
  process.env.XDG_CACHE_HOME = join(shared, ".cache");
  try {
    const path = join(makeProject(validConfig()), "bottle.config.ts");
    await loadConfig(path);
    assert.is((await loadConfig(path)).fromCache, true, "control: served when nothing is guarded");
    const warnings: string[] = [];
    const loaded = await loadConfig(path, { guardedDirs: [{ dir: shared, why: "bottle `other`'s guest can write" }], warn: (m) => warnings.push(m) });
    assert.is(loaded.fromCache, false);
    assert.match(warnings.join("\n"), `not using bottle's caches: ${join(shared, ".cache", "bottle")} is inside ${shared}, which bottle \`other\`'s guest can write`);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test("a cache under a directory every user can write is not used: whoever can rename its levels could swap in their own entries", () => {
  const project = builtProject();
  forge(project, forgeAllow("forged.example.net"));
  const shared = tempDir("bottle-shared-");
  chmodSync(shared, 0o777); // like a shared dir without /tmp's sticky bit
  const cache = join(shared, "cache");
  renameSync(homeFor(project).XDG_CACHE_HOME, cache);
  const run = runBottle(["build"], { cwd: project, env: { XDG_CACHE_HOME: cache } });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, `warning: refusing to use the config cache ${join(cache, "bottle", "config")}: ${shared} is writable by every user (mode 0777) and not sticky`);
  assert.not.match(allowlist(project), "forged.example.net");
});

test("Node's compile cache dir (22.1+, where V8 runs cached code for a matching source) gets the same checks", async () => {
  const { compileCacheDir } = await import("../src/config/cache.js");
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(tempDir("compile-cache-"), "cache");
  try {
    const warnings: string[] = [];
    const dir = compileCacheDir((m) => warnings.push(m));
    assert.is(dir, join(process.env.XDG_CACHE_HOME, "bottle", "node-compile-cache"), "control: a private dir is used");
    chmodSync(dir!, 0o777);
    assert.is(compileCacheDir((m) => warnings.push(m)), null);
    assert.match(warnings.join("\n"), `refusing to use the compile cache ${dir}: ${dir} has mode 0777`);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test("a cache dir owned by another user is not used, with a warning", () => {
  if (process.getuid?.() !== 0) {
    skipSuite("config-cache-forgery (other owner)", "needs root to chown");
    return;
  }
  const { uid } = makeUser("confload");
  const project = builtProject();
  forge(project, forgeAllow("forged.example.net"));
  const dir = join(homeFor(project).XDG_CACHE_HOME, "bottle", "config");
  chownSync(dir, uid, uid);
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, `warning: refusing to use the config cache ${dir}: ${dir} belongs to uid ${uid}, not to you (uid 0)`);
  assert.not.match(allowlist(project), "forged.example.net");
});

test.run();
