// No secret value ever reaches a file or an output line: a canary value in
// the host variable a secret refers to must appear nowhere after every
// command has run, while smolfile.toml still carries the reference.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describeRun, homeFor, listTree, makeProject, ranTasks, runBottle, validConfig, type BottleRun } from "./helpers/cli.js";

const CANARY = `canary-${randomUUID()}`;
const SECRET_ENV = { CANARY_SOURCE: CANARY };

function canaryProject(): string {
  const config = validConfig() as { agent: Record<string, unknown> } & Record<string, unknown>;
  config.agent.secrets = { API_TOKEN: { fromEnv: "CANARY_SOURCE" } };
  // A sidecar whose env refers to the same host variable.
  config.gitGate = { command: ["git-gate", "--port", "{port}"], env: { GATE_TOKEN: { fromEnv: "CANARY_SOURCE" } } };
  return makeProject(config);
}

/** Every regular file under `root` whose name or bytes contain the canary. */
function filesWithCanary(root: string): string[] {
  return listTree(root).filter((path) => {
    if (path.includes(CANARY)) return true;
    const full = join(root, path);
    return statSync(full).isFile() && readFileSync(full).includes(CANARY);
  });
}

function assertNoCanaryIn(run: BottleRun, what: string): void {
  assert.not.ok(run.stdout.includes(CANARY), `the canary is on stdout of ${what}`);
  assert.not.ok(run.stderr.includes(CANARY), `the canary is on stderr of ${what}`);
}

test("the canary appears in no output of build, graph or explain, and in no file", () => {
  const project = canaryProject();
  const commands = [
    ["build"],
    ["build", "--json"],
    ["build", "--dry-run"],
    ["build", "--dry-run", "--json"],
    ["build", "--force", "--json"],
    ["graph"],
    ["graph", "--format", "json"],
    ["graph", "--format", "mermaid"],
    ["graph", "--format", "dot"],
    ["explain"],
    ["explain", "smolfile.toml"],
  ];
  for (const args of commands) {
    const run = runBottle(args, { cwd: project, env: SECRET_ENV });
    assert.is(run.code, 0, `${args.join(" ")}: ${describeRun(run)}`);
    assertNoCanaryIn(run, `bottle ${args.join(" ")}`);
  }
  const stage = join(project, ".bottle", "demo");
  assert.ok(listTree(stage).includes("state.json"));
  assert.equal(filesWithCanary(project), [], "files under the project (stage dir included)");
  assert.equal(filesWithCanary(homeFor(project).root), [], "files under the isolated XDG dirs (config cache, run dir)");
});

test("smolfile.toml refers to the host variable by name", () => {
  const project = canaryProject();
  const run = runBottle(["build"], { cwd: project, env: SECRET_ENV });
  assert.is(run.code, 0, describeRun(run));
  const smolfile = readFileSync(join(project, ".bottle", "demo", "smolfile.toml"), "utf8");
  assert.match(smolfile, /\[secrets\.API_TOKEN\]\nfrom_env = "CANARY_SOURCE"/);
  assert.not.match(smolfile, CANARY);
});

test("changing the secret's value on the host re-renders nothing", () => {
  const project = canaryProject();
  assert.is(runBottle(["build"], { cwd: project, env: SECRET_ENV }).code, 0);
  const run = runBottle(["build", "--json"], { cwd: project, env: { CANARY_SOURCE: `${CANARY}-rotated` } });
  assert.is(run.code, 0, describeRun(run));
  assert.equal(ranTasks(run.stdout), ["ports", "preflight"], "the value is never an input, so rotating it invalidates nothing");
});

test.run();
