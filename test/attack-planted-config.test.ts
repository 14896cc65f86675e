// A config planted in the workspace (issue 9, point 2): the guest writes
// bottle.config.ts into its writable workspace and waits for the user to run
// bottle there. The registry records each bottle's writable workspaces; a
// config inside one is refused (exit 2, naming it) before a line of it runs,
// found from the current directory, through a symlinked directory, or with
// --config; `stop`, `ls` and `rm` read only the registry and never evaluate
// a config. The planted config writes a marker file if it is ever evaluated.
import { existsSync, realpathSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describe, freshFakes, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("dirs-plant");
const workspace = join(project.dir, "ws");
const marker = join(tempDir("bm-"), "the-planted-config-ran");
const planted = join(workspace, "bottle.config.ts");

test("a launch records the bottle's writable workspace, by real path, in the registry", async () => {
  freshFakes(project);
  const launch = await runBottle(project, ["launch"]);
  assert.is(launch.code, 0, describe(launch));
  const entry = JSON.parse(readFileSync(join(project.home.XDG_STATE_HOME, "bottle", "bottles", `${project.name}.json`), "utf8")) as { writable: string[] };
  assert.equal(entry.writable, [realpathSync(workspace)]);
});

test("the planted config never runs: build, resume, graph and watch refuse it (exit 2, naming it); stop, rm and ls read only the registry", async () => {
  writeFileSync(
    planted,
    `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default { name: "${project.name}", image: "alpine:3", agent: { command: ["true"] } };\n`,
  );
  const link = join(tempDir("bl-"), "ws-link");
  symlinkSync(workspace, link);
  const runs: [string[], string][] = [
    [["build"], workspace],
    [["build"], link],
    [["build", "--config", planted], project.dir],
    [["resume"], workspace],
    [["graph"], workspace],
    [["watch"], workspace],
  ];
  for (const [args, cwd] of runs) {
    const run = await runBottle(project, args, { cwd });
    const what = `bottle ${args.join(" ")} in ${cwd}`;
    assert.is(run.code, 2, `${what}: ${describe(run)}`);
    assert.match(run.stderr, `refusing to load `, what);
    assert.match(run.stderr, `bottle.config.ts: it is inside ${realpathSync(workspace)}, the workspace bottle \`${project.name}\`'s guest can write`, what);
    assert.match(run.stderr, "nothing in it was run", what);
    assert.not.ok(existsSync(marker), `${what} evaluated the planted config`);
  }

  for (const args of [["stop"], ["rm"], ["rm", "--yes"]]) {
    const run = await runBottle(project, args, { cwd: workspace });
    const what = `bottle ${args.join(" ")} in the workspace`;
    assert.is(run.code, 2, `${what}: ${describe(run)}`);
    assert.match(run.stderr, `no registered bottle was launched from ${planted}`, what);
    assert.match(run.stderr, "pass NAME", what);
    assert.not.ok(existsSync(marker), `${what} evaluated the planted config`);
  }

  const ls = await runBottle(project, ["ls"], { cwd: workspace });
  assert.is(ls.code, 0, describe(ls));
  assert.match(ls.stdout, project.name);
  const stop = await runBottle(project, ["stop", project.name], { cwd: workspace });
  assert.is(stop.code, 0, describe(stop));
  assert.match(stop.stdout, `${project.name} is not running`);
  assert.not.ok(existsSync(marker), "ls or stop NAME evaluated the planted config");
});

test("a file planted in a registered workspace never runs when another bottle's config imports it (refused before evaluation)", async () => {
  const planted = join(workspace, "shared-allowlist.ts");
  writeFileSync(planted, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport const allow = ["evil.example"];\n`);
  const other = makeProject("dirs-plant-b", { home: project.home });
  writeFileSync(
    join(other.dir, "bottle.config.ts"),
    `import { allow } from ${JSON.stringify(planted)};\nexport default { name: "dirs-plant-b", image: "alpine:3", agent: { command: ["true"] }, workspace: { host: "./ws", guest: "/workspace" }, egress: { allow } };\n`,
  );
  const run = await runBottle(other, ["build"]);
  assert.is(run.code, 2, describe(run));
  assert.match(run.stderr, realpathSync(planted));
  assert.match(run.stderr, `bottle \`${project.name}\`'s guest can write it`);
  assert.not.ok(existsSync(marker), "the planted import was evaluated");
  assert.not.ok(existsSync(join(other.stageDir, "pipelock.yaml")), "something was rendered");
});

test("stop and rm without NAME find the bottle launched from ./bottle.config.ts in the registry, without evaluating it", async () => {
  // The real config now also writes the marker when evaluated: stop and rm must not evaluate it either.
  const config = join(project.dir, "bottle.config.ts");
  writeFileSync(config, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\n${readFileSync(config, "utf8")}`);
  const stop = await runBottle(project, ["stop"]);
  assert.is(stop.code, 0, describe(stop));
  assert.match(stop.stdout, `${project.name} is not running`);
  const rm = await runBottle(project, ["rm", "--yes"]);
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout, `removed ${project.stageDir}`);
  assert.not.ok(existsSync(marker), "stop or rm evaluated the config");
});

test.run();
