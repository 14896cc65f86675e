// `bottle init [DIR]`: a config for a project, written outside it (under
// XDG_CONFIG_HOME), with a valid name from the directory's and egress.allow
// suggested from the project's files, each with why; never over an existing
// file. Afterwards a command run inside the project uses that config and
// never looks at a bottle.config.ts in the project (the agent can write it).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describeRun, isolatedHome, runBottle, type IsolatedHome } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

interface World {
  home: IsolatedHome;
  configDir: string;
  project: string;
  bottle(args: string[], cwd?: string): ReturnType<typeof runBottle>;
}

function world(projectName = "My Cool_Project", files: Record<string, string> = {}): World {
  const home = isolatedHome();
  const configDir = join(home.root, "config");
  const project = join(tempDir("init-"), projectName);
  mkdirSync(project);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(project, file), content);
  const env = { XDG_CONFIG_HOME: configDir, BOTTLE_TOOLS_DIR: "" };
  return { home, configDir, project, bottle: (args, cwd = project) => runBottle(args, { cwd, home, env }) };
}

test("writes the config outside the project, named from its directory, with hosts suggested from its files and why", () => {
  const w = world("My Cool_Project", { "package.json": "{}", "pyproject.toml": "", "Cargo.toml": "" });
  const run = w.bottle(["init"]);
  assert.is(run.code, 0, describeRun(run));
  const config = join(w.configDir, "bottle", "my-cool-project.config.ts");
  assert.match(run.stdout, `wrote ${config}`);
  assert.is(statSync(config).mode & 0o777, 0o600);
  assert.is(statSync(join(w.configDir, "bottle")).mode & 0o777, 0o700);
  const text = readFileSync(config, "utf8");
  assert.match(text, 'import { defineConfig } from "bottle-agent";');
  assert.match(text, 'name: "my-cool-project",');
  assert.match(text, `workspace: { host: ${JSON.stringify(w.project)}, guest: "/workspace" },`);
  assert.match(text, 'presets: ["claude-code"]');
  assert.match(text, /"registry\.npmjs\.org", \/\/ .*suggested because of package\.json/);
  assert.match(text, /"pypi\.org", \/\/ .*suggested because of requirements\.txt \/ pyproject\.toml/);
  assert.match(text, /"files\.pythonhosted\.org", \/\//);
  assert.match(text, /"index\.crates\.io", \/\/ .*Cargo\.toml/);
  assert.not.match(text, "golang");
  assert.match(text, 'inject: { host: "api.anthropic.com", header: "x-api-key", baseUrlEnv: "ANTHROPIC_BASE_URL" }');
  assert.match(run.stdout, "next:");
  assert.match(run.stdout, "bottle doctor");
  assert.is(existsSync(join(w.project, "bottle.config.ts")), false, "nothing written in the project");
});

test("a project with no known files gets an empty allow list; --name picks the name", () => {
  const w = world("plain");
  const run = w.bottle(["init", "--name", "other-name"]);
  assert.is(run.code, 0, describeRun(run));
  assert.match(readFileSync(join(w.configDir, "bottle", "other-name.config.ts"), "utf8"), "    allow: [],");
});

test("never overwrites: a second init of the project, or another project with the same name, is refused and changes nothing", () => {
  const w = world("dup");
  assert.is(w.bottle(["init"]).code, 0);
  const config = join(w.configDir, "bottle", "dup.config.ts");
  const before = readFileSync(config, "utf8");
  const again = w.bottle(["init"]);
  assert.is(again.code, 2, describeRun(again));
  assert.match(again.stderr, `${w.project} already has a bottle: ${config}`);
  const other = join(tempDir("init-other-"), "dup");
  mkdirSync(other);
  const clash = w.bottle(["init", other]);
  assert.is(clash.code, 2, describeRun(clash));
  assert.match(clash.stderr, `${config} already exists; edit it, remove it, or pass --name`);
  assert.is(readFileSync(config, "utf8"), before);
});

test("refuses a bad name, a missing directory, the root and the home directory", () => {
  const w = world("x");
  assert.match(w.bottle(["init", "--name", "Bad Name"]).stderr, "--name: `Bad Name` must be lowercase letters");
  assert.match(w.bottle(["init", join(w.project, "nope")]).stderr, "does not exist");
  assert.match(w.bottle(["init", "/"]).stderr, "refusing to give an agent / read-write");
  const home = runBottle(["init", w.home.root], { cwd: w.project, home: w.home, env: { HOME: w.home.root, XDG_CONFIG_HOME: w.configDir } });
  assert.is(home.code, 2, describeRun(home));
  assert.match(home.stderr, "refusing to give an agent");
});

test("inside the project (and below it), build uses the init config; a bottle.config.ts the agent left in the project never runs", () => {
  const w = world("proj", { "package.json": "{}" });
  assert.is(w.bottle(["init"]).code, 0);
  const marker = join(w.home.root, "planted-ran");
  writeFileSync(join(w.project, "bottle.config.ts"), `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default { name: "planted", image: "x", agent: { command: ["sh"] } };\n`);
  mkdirSync(join(w.project, "src", "deep"), { recursive: true });
  const build = w.bottle(["build"], join(w.project, "src", "deep"));
  assert.is(build.code, 0, describeRun(build));
  assert.match(build.stdout, `stage: ${join(w.configDir, "bottle", ".bottle", "proj")}`);
  assert.match(readFileSync(join(w.configDir, "bottle", ".bottle", "proj", "pipelock.yaml"), "utf8"), "registry.npmjs.org");
  assert.not.ok(existsSync(marker), "the planted config ran");
});

test.run();
