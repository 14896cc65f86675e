// Issue 15, point 7: bottle's caches inside a workspace a guest can write.
// The config cache was refused there (for registered bottles); jiti's
// transpile cache was not, on a config's first evaluation (the bottle not
// yet registered), and Node's compile cache was enabled for every command
// before anything was known. A guest that can write XDG_CACHE_HOME plants
// code there: a transpiled config jiti runs as the config, or (Node 22+)
// code cache for bottle's own modules. Now each cache is used only once the
// config's writable workspaces are known (it was evaluated here before), and
// never inside any workspace a config evaluated here, or a registered
// bottle, lets a guest write.
//
// Node 20, which runs these tests, has no compile cache: module.enableCompileCache
// is stood in for (node --import) by a function that records where bottle asked for it.
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { knownWorkspaces, rememberWorkspaces } from "../src/config/known-workspaces.js";
import { isolatedHome, makeProject, runBottle, type IsolatedHome } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

/** A home whose XDG_CACHE_HOME lies inside `workspace`. */
function homeInside(workspace: string): IsolatedHome {
  const home = isolatedHome();
  const cache = join(workspace, "cache");
  mkdirSync(cache, { mode: 0o700 });
  return { ...home, XDG_CACHE_HOME: cache };
}

/** A config that reads the environment (so the config cache never holds it: jiti evaluates it every time), with `workspace` writable. */
function impureConfig(workspace: string): string {
  return `export default {
  name: "cw",
  image: "alpine:3.20",
  agent: { command: ["sh"] },
  workspace: { host: ${JSON.stringify(workspace)}, guest: "/w" },
  egress: { allow: [process.env.CW_HOST ?? "example.com"] },
};
`;
}

/**
 * What the guest does: a transpiled copy of the config in jiti's cache,
 * named and stamped as jiti expects for this very file and source, that
 * first writes `marker`. jiti runs such an entry instead of the config.
 */
async function plantTranspiledConfig(configPath: string, jitiDir: string, marker: string): Promise<void> {
  const scratch = tempDir("bcw-jiti-");
  const require = createRequire(import.meta.url);
  const { createJiti } = require("jiti") as typeof import("jiti");
  const packageEntry = fileURLToPath(new URL("../src/index.js", import.meta.url));
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: scratch, alias: { bottle: packageEntry } });
  await jiti.import(configPath);
  const [name] = readdirSync(scratch);
  assert.ok(name, "jiti wrote its cache entry");
  mkdirSync(jitiDir, { recursive: true, mode: 0o700 });
  const entry = readFileSync(join(scratch, name!), "utf8");
  writeFileSync(join(jitiDir, name!), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "planted code ran");\n${entry}`);
}

test("a transpiled config a guest planted in jiti's cache inside the config's workspace never runs, on the first evaluation or later", async () => {
  const workspace = tempDir("bcw-ws-");
  const home = homeInside(workspace);
  const project = makeProject(impureConfig(workspace));
  const marker = join(tempDir("bcw-mark-"), "ran");
  await plantTranspiledConfig(join(project, "bottle.config.ts"), join(home.XDG_CACHE_HOME, "bottle", "jiti"), marker);
  const first = runBottle(["build"], { cwd: project, home });
  assert.is(first.code, 0, first.stderr);
  assert.not.ok(existsSync(marker), "the planted transpile ran on the config's first evaluation");
  const second = runBottle(["build"], { cwd: project, home });
  assert.is(second.code, 0, second.stderr);
  assert.not.ok(existsSync(marker), "the planted transpile ran once the workspace was known");
  assert.match(second.stderr, `warning: not using bottle's caches: ${home.XDG_CACHE_HOME}/bottle is inside ${workspace}`);
});

test("what bottle knows of a config's workspaces only grows: one it no longer mounts still holds what its guest wrote", () => {
  const env = { XDG_STATE_HOME: tempDir("bcw-state-") };
  const config = "/projects/app/bottle.config.ts";
  assert.is(knownWorkspaces(env, []).of(config), null, "never evaluated here");
  rememberWorkspaces(config, ["/home/me"], knownWorkspaces(env, []), env);
  rememberWorkspaces(config, ["/projects/app/ws"], knownWorkspaces(env, []), env);
  const known = knownWorkspaces(env, []);
  assert.equal(known.of(config), ["/home/me", "/projects/app/ws"]);
  assert.equal(known.all.map((g) => g.dir), ["/home/me", "/projects/app/ws"]);
  assert.match(known.all[0]!.why, `the guest of ${config} can write it`);
  // A record whose name is not its config path's hash is not bottle's: ignored.
  const dir = join(env.XDG_STATE_HOME, "bottle", "workspaces");
  writeFileSync(join(dir, "0".repeat(24) + ".json"), JSON.stringify({ configPath: "/other/bottle.config.ts", writable: [] }));
  assert.is(knownWorkspaces(env, []).of("/other/bottle.config.ts"), null);
});

test("once a config has been evaluated, its workspace stays off-limits to every cache, registered or not (as after `bottle rm`)", () => {
  const workspace = tempDir("bcw-ws-");
  const home = homeInside(workspace);
  const project = makeProject(impureConfig(workspace));
  assert.is(runBottle(["build"], { cwd: project, home }).code, 0);
  // Whatever the registry says (nothing here: never launched), the record of the evaluation keeps the workspace guarded.
  const again = runBottle(["build"], { cwd: project, home });
  assert.match(again.stderr, `not using bottle's caches: ${home.XDG_CACHE_HOME}/bottle is inside ${workspace}, which the guest of ${join(project, "bottle.config.ts")} can write it`);
  assert.not.ok(existsSync(join(home.XDG_CACHE_HOME, "bottle", "jiti")), "jiti's cache was written in the workspace");
  assert.not.ok(existsSync(join(home.XDG_CACHE_HOME, "bottle", "config")), "the config cache was written in the workspace");
});

// module.enableCompileCache for Node 20: records the directory it is asked for.
const COMPILE_CACHE_STANDIN = [
  "--import",
  `data:text/javascript,import m from "node:module"; import { appendFileSync } from "node:fs"; m.enableCompileCache = (dir) => appendFileSync(process.env.BCW_COMPILE_CACHE_LOG, String(dir) + "\\n");`,
];

function compileCacheRequests(log: string): string[] {
  return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
}

test("Node's compile cache is not enabled inside a workspace a guest can write: not before the config is known, not after, not for other commands", () => {
  const workspace = tempDir("bcw-ws-");
  const home = homeInside(workspace);
  const project = makeProject(impureConfig(workspace));
  const log = join(tempDir("bcw-cc-"), "requests");
  const env = { BCW_COMPILE_CACHE_LOG: log };
  for (const args of [["build"], ["build"], ["ls"]]) {
    const run = runBottle(args, { cwd: project, home, env, nodeArgs: COMPILE_CACHE_STANDIN });
    assert.is(run.code, 0, run.stderr);
    assert.equal(compileCacheRequests(log), [], `bottle ${args.join(" ")} enabled the compile cache in the guest's workspace`);
  }
});

test("control: elsewhere the compile cache is enabled, in bottle's private cache dir", () => {
  const project = makeProject(impureConfig(tempDir("bcw-other-ws-")));
  const home = isolatedHome();
  const log = join(tempDir("bcw-cc-"), "requests");
  const env = { BCW_COMPILE_CACHE_LOG: log };
  for (const args of [["build"], ["ls"]]) assert.is(runBottle(args, { cwd: project, home, env, nodeArgs: COMPILE_CACHE_STANDIN }).code, 0);
  const requests = compileCacheRequests(log);
  assert.ok(requests.length >= 2, requests.join("\n"));
  for (const dir of requests) assert.is(dir, join(home.XDG_CACHE_HOME, "bottle", "node-compile-cache"));
});

test.run();
