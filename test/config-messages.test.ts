// Config errors that say what to do: bounds stated, a missing key called
// required, a secret given as a value pointed at `{ fromEnv }`, a config that
// throws shown with its file and line, `--config` at a directory answered
// in one sentence. Each exits 2 and writes nothing.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describeRun, makeProject, runBottle } from "./helpers/cli.js";

function refused(config: string | object): string {
  const project = makeProject(config);
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.not.ok(existsSync(join(project, ".bottle")), "nothing written");
  return run.stderr;
}

const base = { name: "demo", image: "alpine:3", agent: { command: ["sh"] } };

test("bounds are stated: `must be at least 1`, not `expected a whole number`", () => {
  const stderr = refused({ ...base, resources: { cpus: -1, memoryMiB: 10 }, network: { subnetOctet: 0 } });
  assert.match(stderr, "resources.cpus: must be at least 1");
  assert.match(stderr, "resources.memoryMiB: must be at least 256 (MiB)");
  assert.match(stderr, "network.subnetOctet: must be from 1 to 254");
  assert.match(refused({ ...base, resources: { cpus: 1.5 } }), "resources.cpus: expected a whole number");
});

test("a missing required key is called required", () => {
  const stderr = refused({ agent: { command: ["sh"] } });
  assert.match(stderr, "name: is required");
  assert.match(stderr, "image: is required");
  assert.match(refused({ name: "demo", image: "x" }), "agent: is required");
});

test("a secret given as its value is pointed at `{ fromEnv }`", () => {
  assert.match(refused({ ...base, agent: { command: ["sh"], secrets: { KEY: "sk-literal" } } }), 'agent.secrets.KEY: expected `{ fromEnv: "HOST_VAR" }`');
});

test("a config that throws is shown with its file and line", () => {
  const project = makeProject('const a: number = 1;\n\nthrow new Error("the config broke");\nexport default {};\n');
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, `failed to load: the config broke (at ${join(project, "bottle.config.ts")}:3:`);
});

test("--config at a directory: one sentence naming the file to pass, no stack", () => {
  const project = makeProject(base);
  mkdirSync(join(project, "configs"));
  const run = runBottle(["build", "--config", "configs"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.is(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, `is a directory; pass the config file in it (${join(project, "configs", "bottle.config.ts")})`);
  assert.not.match(run.stderr, "Require stack");
});

test.run();
