// Proves the happy lifecycle against the contract fakes: launch runs the
// steps in order and exits with the agent's code, teardown stops the
// machine and keeps the logs; resume reuses the machine and says what
// re-ran and why; a Smolfile change re-creates the machine; a busy smolvm
// database is retried. Each scenario ends with the leftovers check.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readSmolvmCalls } from "./helpers/fakes.js";
import { assertNoLeftovers, baseConfig, describe, freshFakes, makeProject, runBottle, smolvmVerbs, writeProjectConfig } from "./helpers/lifecycle.js";

const project = makeProject("lc-happy");

test("launch runs status, create, start, exec through net-up.sh, then stops the machine, and exits with the agent's code", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { env: { FAKE_EXEC_EXIT: "7" } });
  assert.is(run.code, 7, describe(run));

  const calls = readSmolvmCalls(project.fakes);
  // The status after start reads the VM's pid (smolvm has no pid file).
  assert.equal(smolvmVerbs(calls), ["status", "create", "start", "status", "exec", "status", "stop"], describe(run));
  assert.equal(calls[1]!.argv, [
    "machine",
    "create",
    "--name",
    project.machine,
    "-s",
    join(project.stageDir, "smolfile.toml"),
    "--mount-socket",
    `${join(project.runDir, "gvproxy.sock")}:/run/bottle/gvproxy.sock`,
  ]);
  const exec = calls[4]!.argv;
  assert.equal(exec.slice(exec.indexOf("--")), ["--", "/opt/bottle/net-up.sh", "sh", "-c", "echo hi"]);
  assert.equal(exec.slice(0, 4), ["machine", "exec", "--name", project.machine]);

  assert.match(run.stderr, "the agent exited with code 7");
  assert.match(run.stderr, `bottle resume ${project.name}`);
  // The agent's own output reached bottle's stdout (the terminal is passed through).
  assert.match(run.stdout, "fake-smolvm exec: /opt/bottle/net-up.sh sh -c echo hi");

  const logs = join(project.stageDir, "logs");
  assert.match(readFileSync(join(logs, "pipelock.log"), "utf8"), /"event":"startup","listen":"127\.0\.0\.1:\d+"/);
  assert.match(readFileSync(join(logs, "gvproxy.log"), "utf8"), `listening unix://${join(project.runDir, "jail", "gvproxy.sock")}`);

  assertNoLeftovers(project, "stopped");
});

test("resume NAME (from another directory) starts the stopped machine without re-creating it, and says what re-ran and why", async () => {
  const before = readSmolvmCalls(project.fakes).length;
  const run = await runBottle(project, ["resume", project.name], { cwd: project.home.root });
  assert.is(run.code, 0, describe(run));
  assert.equal(smolvmVerbs(readSmolvmCalls(project.fakes).slice(before)), ["status", "start", "status", "exec", "status", "stop"], describe(run));
  for (const task of ["subnet", "gvproxy.yaml", "smolfile.toml", "pipelock.yaml", "guest"]) {
    assert.match(run.stdout, new RegExp(`^fresh\\s+${task.replace(".", "\\.")}$`, "m"), `${task} should be fresh:\n${run.stdout}`);
  }
  for (const task of ["preflight", "ports", "sidecars", "network", "machine", "attach"]) {
    assert.match(run.stdout, new RegExp(`^ran\\s+${task} \\(volatile: re-checked every run`, "m"), `${task} should say why it re-ran:\n${run.stdout}`);
  }
  assert.match(run.stdout, `machine: starting ${project.machine}`);
  assert.not.match(run.stdout, "creating");
  assertNoLeftovers(project, "stopped");
});

test("resume after a Smolfile change deletes the machine and creates it again", async () => {
  const config = baseConfig(project.name);
  (config.agent as { env: Record<string, string> }).env = { GREETING: "changed" };
  writeProjectConfig(project, config);
  const before = readSmolvmCalls(project.fakes).length;
  const run = await runBottle(project, ["resume"]);
  assert.is(run.code, 0, describe(run));
  assert.equal(smolvmVerbs(readSmolvmCalls(project.fakes).slice(before)), ["status", "delete", "create", "start", "status", "exec", "status", "stop"], describe(run));
  assert.match(run.stdout, /^ran\s+smolfile\.toml \(/m);
  assert.match(run.stdout, "re-creating the machine");
  assert.match(readFileSync(join(project.stageDir, "smolfile.toml"), "utf8"), "changed");
  assertNoLeftovers(project, "stopped");
});

test("a busy smolvm database (FAKE_BUSY_SMOLVM=3) is retried and the launch succeeds", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { env: { FAKE_BUSY_SMOLVM: "3" } });
  assert.is(run.code, 0, describe(run));
  const verbs = smolvmVerbs(readSmolvmCalls(project.fakes));
  // Three creates refused (only writes meet a busy database), then the one that got through, then the rest.
  assert.equal(verbs, ["status", "create", "create", "create", "create", "start", "status", "exec", "status", "stop"], describe(run));
  assertNoLeftovers(project, "stopped");
});

test.run();
