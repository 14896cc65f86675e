// `bottle graph` and `bottle explain` through the real CLI, and the argument
// handling every command shares (--help, unknown options).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describeRun, listTree, makeProject, runBottle, validConfig, writeConfig } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

// The build graph. The backend may add more tasks (launch's), which these
// tests allow but do not describe: the build part must be exactly this.
const TASKS = ["preflight", "subnet", "ports", "gvproxy.yaml", "smolfile.toml", "pipelock.yaml", "sidecars.json", "guest"];
const EDGES: [string, string][] = [
  ["subnet", "gvproxy.yaml"],
  ["subnet", "pipelock.yaml"],
  ["ports", "smolfile.toml"],
];
const isBuildTask = (task: string): boolean => TASKS.includes(task);
const buildEdges = (edges: readonly [string, string][]): [string, string][] =>
  edges.filter(([from, to]) => isBuildTask(from) && isBuildTask(to)).sort();

function graph(project: string, format?: string): string {
  const run = runBottle(["graph", ...(format ? ["--format", format] : [])], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  return run.stdout;
}

test("graph --format json: the seven build tasks and their three edges", () => {
  const project = makeProject(validConfig());
  const parsed = JSON.parse(graph(project, "json")) as { nodes: { id: string; volatile: boolean; status: string }[]; edges: [string, string][] };
  assert.equal(Object.keys(parsed).sort(), ["edges", "nodes"]);
  const nodes = parsed.nodes.filter((n) => isBuildTask(n.id));
  assert.equal(nodes.map((n) => n.id), TASKS);
  assert.equal(nodes.filter((n) => n.volatile).map((n) => n.id).sort(), ["ports", "preflight"]);
  assert.equal(buildEdges(parsed.edges), [...EDGES].sort());
  for (const node of nodes) assert.is(node.status, "run", node.id);
});

test("graph --format mermaid starts with `graph LR` and draws every edge", () => {
  const out = graph(makeProject(validConfig()), "mermaid");
  assert.ok(out.startsWith("graph LR\n"), out);
  const ids = new Map([...out.matchAll(/^ {2}(\w+)\["([^" ]+)/gm)].map((m) => [m[2]!, m[1]!]));
  for (const task of TASKS) assert.ok(ids.has(task), `${task} is a node`);
  for (const [from, to] of EDGES) assert.match(out, `\n  ${ids.get(from)} --> ${ids.get(to)}\n`);
});

test("graph --format dot is a digraph with every edge", () => {
  const out = graph(makeProject(validConfig()), "dot");
  assert.match(out, /^digraph \w+ \{\n/);
  assert.match(out, /\}\n$/);
  for (const [from, to] of EDGES) assert.match(out, `"${from}" -> "${to}";`);
  for (const task of TASKS) assert.match(out, `"${task}" [`);
});

test("graph (text, the default) lists each task on its own line", () => {
  const project = makeProject(validConfig());
  const out = graph(project);
  assert.is(graph(project, "text"), out);
  const listed = out.trimEnd().split("\n").map((line) => line.split(/[ :]/)[0]!);
  assert.equal(listed.filter(isBuildTask), TASKS);
  assert.match(out, "gvproxy.yaml: will run  ← subnet");
  assert.match(out, "smolfile.toml: will run  ← ports");
});

test("graph and explain write nothing", () => {
  const project = makeProject(validConfig());
  graph(project, "json");
  assert.is(runBottle(["explain"], { cwd: project }).code, 0);
  assert.equal(listTree(project), ["bottle.config.ts"]);
});

test("graph --format nope exits 2 naming the formats", () => {
  const run = runBottle(["graph", "--format", "nope"], { cwd: makeProject(validConfig()) });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "--format must be one of text, mermaid, dot, json, not `nope`");
});

test("explain before any build: every task will run because it never ran", () => {
  const run = runBottle(["explain"], { cwd: makeProject(validConfig()) });
  assert.is(run.code, 0, describeRun(run));
  const headers = run.stdout.split("\n").filter((line) => line !== "" && !line.startsWith(" "));
  for (const task of TASKS) assert.ok(headers.some((h) => h.startsWith(`${task}: `) || h.startsWith(`${task} (volatile): `)), task);
  for (const header of headers) assert.match(header, /^\S+( \(volatile\))?: will run/);
  assert.is(run.stdout.match(/^ {2}- never ran$/gm)?.length, headers.length);
});

test("explain TASK after an egress.allow edit names the changed input, for that task only", () => {
  const project = makeProject(validConfig());
  assert.is(runBottle(["build"], { cwd: project }).code, 0);
  writeConfig(project, { ...validConfig(), egress: { allow: ["example.com", "api.example.net"] } });
  const run = runBottle(["explain", "pipelock.yaml"], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  assert.match(run.stdout, /^pipelock\.yaml: will run/m);
  assert.match(run.stdout, "  - input `egress.allow` changed");
  for (const other of TASKS.filter((t) => t !== "pipelock.yaml")) assert.not.match(run.stdout, new RegExp(`^${other.replace(".", "\\.")}[ :]`, "m"));

  const all = runBottle(["explain"], { cwd: project });
  assert.match(all.stdout, /^smolfile\.toml: fresh/m);
  assert.match(all.stdout, /^gvproxy\.yaml: fresh/m);
});

test("explain nope exits 2 naming the tasks", () => {
  const run = runBottle(["explain", "nope"], { cwd: makeProject(validConfig()) });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "there is no task `nope`; tasks: preflight, subnet, ports, gvproxy.yaml, smolfile.toml, injector, pipelock.yaml, sidecars.json, guest, tls");
});

const OPTIONS: Record<string, string[]> = {
  build: ["--config PATH", "--stage DIR", "--force [TASK]", "--dry-run", "--json", "--help"],
  graph: ["--config PATH", "--stage DIR", "--format FORMAT", "--help"],
  explain: ["TASK", "--config PATH", "--stage DIR", "--help"],
  policy: ["--config PATH", "--stage DIR", "--json", "--help"],
};

for (const [command, options] of Object.entries(OPTIONS)) {
  test(`${command} --help exits 0 and lists its options, without needing a config`, () => {
    const cwd = tempDir();
    for (const flag of ["--help", "-h"]) {
      const run = runBottle([command, flag], { cwd });
      assert.is(run.code, 0, describeRun(run));
      assert.match(run.stdout, `usage: bottle ${command}`);
      for (const option of options) assert.match(run.stdout, option);
    }
    assert.equal(listTree(cwd), []);
  });

  test(`${command} with an unknown option exits 2 pointing at --help`, () => {
    const run = runBottle([command, "--frobnicate"], { cwd: makeProject(validConfig()) });
    assert.is(run.code, 2, describeRun(run));
    assert.match(run.stderr, `unknown option --frobnicate for \`bottle ${command}\`; see \`bottle ${command} --help\``);
  });
}

test("bottle --help lists the commands; an unknown command exits 2", () => {
  const help = runBottle(["--help"], { cwd: tempDir() });
  assert.is(help.code, 0, describeRun(help));
  for (const command of Object.keys(OPTIONS)) assert.match(help.stdout, new RegExp(`^ {2}${command} `, "m"));
  const unknown = runBottle(["frobnicate"], { cwd: tempDir() });
  assert.is(unknown.code, 2, describeRun(unknown));
  assert.match(unknown.stderr, "unknown command `frobnicate`");
});

test("build takes no positional arguments", () => {
  const run = runBottle(["build", "extra"], { cwd: makeProject(validConfig()) });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "unexpected argument `extra` for `bottle build`; see `bottle build --help`");
});

test.run();
