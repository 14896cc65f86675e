// `bottle build` through the real CLI: what the first build renders and with
// which modes, and the resume behaviour the spec promises (a second build
// runs no non-volatile task; each config change or damaged output redoes
// exactly the task that owns it), plus --force, --dry-run, --json, --stage.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  describeRun,
  listTree,
  makeProject,
  ndjson,
  ranTasks,
  reasonsFor,
  runBottle,
  snapshotTree,
  taskEvents,
  validConfig,
  writeConfig,
  type BottleRun,
} from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const ALL_TASKS = ["guest", "gvproxy.yaml", "injector", "pipelock.yaml", "ports", "preflight", "sidecars.json", "smolfile.toml", "subnet", "tls"];
/** What every build re-checks: the volatile tasks. */
const VOLATILE = ["ports", "preflight"];
const RENDERED = ["guest/", "guest/net-up.sh", "gvproxy.yaml", "pipelock.yaml", "sidecars.json", "smolfile.toml", "state.json", "state.stamp"];
/** The bottle's CA, which pipelock makes: with a pipelock found, the stage has it too. */
const STAGE_FILES = [...RENDERED, "guest/ca.pem", "tls/", "tls/ca-key.pem", "tls/ca.pem"].sort();

function stageOf(project: string, name = "demo"): string {
  return join(project, ".bottle", name);
}

function mode(path: string): string {
  return `0${(statSync(path).mode & 0o777).toString(8)}`;
}

function build(project: string, args: string[] = [], env?: Record<string, string>): BottleRun {
  const run = runBottle(["build", "--json", ...args], { cwd: project, ...(env ? { env } : {}) });
  assert.is(run.code, 0, describeRun(run));
  return run;
}

/** A project built once, with the config it was built from. */
function builtProject(config: Record<string, unknown> = validConfig()): { project: string; config: Record<string, unknown>; stage: string } {
  const project = makeProject(config);
  build(project);
  return { project, config, stage: stageOf(project) };
}

test("the first build renders every file into .bottle/<name>, readable only by the user", () => {
  const project = makeProject(validConfig());
  const emptyPath = tempDir("no-binaries-");
  const run = runBottle(["build"], { cwd: project, env: { PATH: emptyPath, BOTTLE_TOOLS_DIR: "" } });
  assert.is(run.code, 0, describeRun(run));
  const stage = stageOf(project);
  assert.equal(listTree(stage), RENDERED, "no pipelock, so no CA yet");
  assert.match(run.stdout, "no CA yet: pipelock, which makes it, is not installed");
  assert.match(run.stdout, `stage: ${stage}`);
  assert.is(mode(stage), "0700");
  assert.is(mode(join(stage, "guest")), "0700");
  for (const file of ["gvproxy.yaml", "pipelock.yaml", "sidecars.json", "smolfile.toml", "state.json"]) assert.is(mode(join(stage, file)), "0600", file);
  assert.is(mode(join(stage, "guest/net-up.sh")), "0700");
  assert.match(readFileSync(join(stage, "smolfile.toml"), "utf8"), 'image = "alpine:3.20"');
  assert.match(readFileSync(join(stage, "pipelock.yaml"), "utf8"), "example.com");
  assert.match(readFileSync(join(stage, "guest/net-up.sh"), "utf8"), /^#!/);
});

test("a build with the binaries missing warns in the seed's shape and still exits 0", () => {
  const project = makeProject(validConfig());
  const run = runBottle(["build"], { cwd: project, env: { PATH: tempDir("no-binaries-"), BOTTLE_TOOLS_DIR: "" } });
  assert.is(run.code, 0, describeRun(run));
  assert.match(run.stderr, "bottle launch needs these programs, not found on PATH:\n");
  assert.not.match(run.stderr, "BOTTLE_BACKEND", "the message speaks of the programs, not of a variable the user never set");
  assert.match(run.stderr, /^ {2}- smolvm {2}install: \S/m);
  assert.match(run.stderr, /^ {2}- gvproxy {2}install: \S/m);
  assert.match(run.stderr, /^ {2}- pipelock {2}install: \S/m);
  if (process.platform === "linux") assert.match(run.stderr, /^ {2}- bwrap {2}install: \S/m);
});

test("a second build runs no non-volatile task", () => {
  const { project } = builtProject();
  const second = build(project);
  assert.equal(ranTasks(second.stdout), VOLATILE);
  for (const event of taskEvents(second.stdout).filter((e) => !e.volatile)) assert.is(event.status, "fresh", event.task);
});

test("changing agent.env re-renders only smolfile.toml, naming the changed variable", () => {
  const { project, config, stage } = builtProject();
  const before = readFileSync(join(stage, "pipelock.yaml"), "utf8");
  writeConfig(project, { ...config, agent: { command: ["sh", "-c", "sleep 1"], env: { GREETING: "bonjour" } } });
  const run = build(project);
  assert.equal(ranTasks(run.stdout), ["ports", "preflight", "smolfile.toml"]);
  assert.equal(reasonsFor(run.stdout, "smolfile.toml"), ["input `agent.env.GREETING` changed"]);
  assert.match(readFileSync(join(stage, "smolfile.toml"), "utf8"), "GREETING=bonjour");
  assert.is(readFileSync(join(stage, "pipelock.yaml"), "utf8"), before);
});

test("changing egress.allow re-renders only pipelock.yaml", () => {
  const { project, config, stage } = builtProject();
  writeConfig(project, { ...config, egress: { allow: ["example.com", "*.pkg.example.org"] } });
  const run = build(project);
  assert.equal(ranTasks(run.stdout), ["pipelock.yaml", "ports", "preflight"]);
  assert.equal(reasonsFor(run.stdout, "pipelock.yaml"), ["input `egress.allow` changed"]);
  assert.match(readFileSync(join(stage, "pipelock.yaml"), "utf8"), "pkg.example.org");
});

test("deleting gvproxy.yaml re-renders only it, with the same content", () => {
  const { project, stage } = builtProject();
  const original = readFileSync(join(stage, "gvproxy.yaml"), "utf8");
  rmSync(join(stage, "gvproxy.yaml"));
  const run = build(project);
  assert.equal(ranTasks(run.stdout), ["gvproxy.yaml", "ports", "preflight"]);
  assert.equal(reasonsFor(run.stdout, "gvproxy.yaml"), ["output `gvproxy.yaml` was deleted"]);
  assert.is(readFileSync(join(stage, "gvproxy.yaml"), "utf8"), original);
  assert.is(mode(join(stage, "gvproxy.yaml")), "0600");
});

test("a hand edit to smolfile.toml is detected and undone", () => {
  const { project, stage } = builtProject();
  const path = join(stage, "smolfile.toml");
  const original = readFileSync(path, "utf8");
  writeFileSync(path, original.replace("net = false", "net = true"));
  const run = build(project);
  assert.equal(ranTasks(run.stdout), ["ports", "preflight", "smolfile.toml"]);
  assert.equal(reasonsFor(run.stdout, "smolfile.toml"), ["output `smolfile.toml` was modified"]);
  assert.is(readFileSync(path, "utf8"), original);
});

test("--force runs every task", () => {
  const { project } = builtProject();
  const run = build(project, ["--force"]);
  assert.equal(ranTasks(run.stdout), ALL_TASKS);
  for (const event of taskEvents(run.stdout)) assert.ok(event.reasons.includes("forced"), event.task);
});

test("--force subnet runs subnet, and nothing downstream when its result is the same", () => {
  const { project } = builtProject();
  const run = build(project, ["--force", "subnet"]);
  assert.equal(ranTasks(run.stdout), ["ports", "preflight", "subnet"]);
  assert.equal(reasonsFor(run.stdout, "subnet"), ["forced"]);
  const gvproxy = taskEvents(run.stdout).find((e) => e.task === "gvproxy.yaml");
  assert.is(gvproxy?.status, "fresh");
});

test("--force with an unknown task exits 2 naming the tasks, and changes nothing", () => {
  const { project } = builtProject();
  const before = snapshotTree(project);
  const run = runBottle(["build", "--force", "nope"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "--force: `nope` is not one of the tasks this command runs (preflight, subnet, ports, gvproxy.yaml, smolfile.toml, injector, pipelock.yaml, sidecars.json, guest, tls)");
  assert.equal(snapshotTree(project), before);
});

test("--dry-run says what would run and why, and changes nothing", () => {
  const { project, config, stage } = builtProject();
  writeConfig(project, { ...config, egress: { allow: ["other.example.com"] } });
  const state = readFileSync(join(stage, "state.json"));
  const before = snapshotTree(project);
  const run = runBottle(["build", "--dry-run"], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  assert.match(run.stdout, "pipelock.yaml: will run");
  assert.match(run.stdout, "input `egress.allow` changed");
  assert.match(run.stdout, /smolfile\.toml: fresh/);
  assert.match(run.stdout, /dry run: \d+ would run, \d+ fresh; nothing was changed/);
  assert.equal(readFileSync(join(stage, "state.json")), state);
  assert.equal(snapshotTree(project), before);
  assert.not.match(readFileSync(join(stage, "pipelock.yaml"), "utf8"), "other.example.com");
});

test("--dry-run before any build creates no stage dir and says every task never ran", () => {
  const project = makeProject(validConfig());
  const run = runBottle(["build", "--dry-run", "--json"], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  const plan = ndjson(run.stdout);
  assert.equal(plan.map((e) => e.task).sort(), ALL_TASKS);
  for (const entry of plan) {
    assert.is(entry.event, "plan");
    assert.is(entry.status, "run");
    assert.ok((entry.reasons as string[]).includes("never ran"), String(entry.task));
  }
  assert.equal(listTree(project), ["bottle.config.ts"]);
});

test("--json prints only NDJSON on stdout, ending with the summary", () => {
  const project = makeProject(validConfig());
  const run = build(project);
  const lines = ndjson(run.stdout);
  assert.is(lines.length, ALL_TASKS.length + 1);
  assert.equal(lines.slice(0, -1).map((l) => l.event), ALL_TASKS.map(() => "task"));
  assert.equal(taskEvents(run.stdout).map((e) => e.task).sort(), ALL_TASKS);
  const summary = lines[lines.length - 1]!;
  assert.equal(Object.keys(summary).sort(), ["blocked", "event", "failed", "fresh", "ms", "ran"]);
  assert.is(summary.event, "summary");
  assert.equal([summary.ran, summary.fresh, summary.failed, summary.blocked], [ALL_TASKS.length, 0, 0, 0]);
  assert.type(summary.ms, "number");
  assert.not.match(run.stdout, "stage:");

  const second = ndjson(build(project).stdout).at(-1)!;
  assert.equal([second.ran, second.fresh, second.failed, second.blocked], [VOLATILE.length, ALL_TASKS.length - VOLATILE.length, 0, 0]);
});

test("--stage DIR puts everything there and nothing in the project", () => {
  const project = makeProject(validConfig());
  const stage = join(tempDir(), "custom-stage");
  build(project, ["--stage", stage]);
  assert.equal(listTree(stage), STAGE_FILES);
  for (const file of ["tls/ca-key.pem"]) assert.is(mode(join(stage, file)), "0600", "the CA's key is the user's alone");
  assert.equal(listTree(project), ["bottle.config.ts"]);
  assert.match(readFileSync(join(stage, "smolfile.toml"), "utf8"), `${join(stage, "guest")}:/opt/bottle:ro`);
  assert.equal(ranTasks(build(project, ["--stage", stage]).stdout), VOLATILE);
});

test("a task that fails exits 1 and names the failure; the rest is still rendered", () => {
  // smolvm splits volume specs on ":", so a workspace dir with one in its name cannot be mounted.
  const project = makeProject({ ...validConfig(), workspace: { host: "odd:dir", guest: "/workspace" } });
  mkdirSync(join(project, "odd:dir"));
  const run = runBottle(["build", "--json"], { cwd: project });
  assert.is(run.code, 1, describeRun(run));
  const smolfile = taskEvents(run.stdout).find((e) => e.task === "smolfile.toml");
  assert.is(smolfile?.status, "failed");
  assert.match(smolfile?.error ?? "", "may not contain");
  assert.ok(existsSync(join(stageOf(project), "pipelock.yaml")));
  assert.not.ok(existsSync(join(stageOf(project), "smolfile.toml")));
});

test("a --stage that is a file is a usage error naming it, not an internal error", () => {
  const project = makeProject(validConfig());
  writeFileSync(join(project, "not-a-dir"), "");
  const run = runBottle(["build", "--stage", "not-a-dir"], { cwd: project });
  assert.not.match(run.stderr, "internal error", describeRun(run));
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, join(project, "not-a-dir"));
});

test("--force names only build's tasks: a launch step is rejected", () => {
  const { project } = builtProject();
  const run = runBottle(["build", "--force", "attach"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "--force: `attach` is not one of the tasks this command runs");
});

test("a writable workspace that holds the config or the stage dir is refused before anything is written", () => {
  const project = makeProject({ ...validConfig(), workspace: { host: ".", guest: "/workspace" } });
  const before = snapshotTree(project);
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "workspace.host: the guest could edit its own config");
  assert.match(run.stderr, "workspace.host: the guest could rewrite its rendered files");
  assert.equal(snapshotTree(project), before);
});

test("the same workspace mounted read-only is allowed; a stage moved outside a writable one is allowed", () => {
  const readOnly = makeProject({ ...validConfig(), workspace: { host: ".", guest: "/workspace", readOnly: true } });
  assert.is(build(readOnly).code, 0);
  const outside = tempDir("bottle-config-");
  const workspace = tempDir("bottle-ws-");
  const config = writeConfig(outside, { ...validConfig(), workspace: { host: workspace, guest: "/workspace" } });
  const run = runBottle(["build", "--config", config], { cwd: workspace });
  assert.is(run.code, 0, describeRun(run));
  assert.ok(existsSync(join(outside, ".bottle", "demo", "smolfile.toml")));
});

test.run();
