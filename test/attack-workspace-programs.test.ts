// Programs planted in the workspace (security review): the agent writes
// node_modules/.bin/{bwrap,smolvm,gvproxy,pipelock,gitleaks} into its
// writable workspace, and the user runs `npx bottle …` from inside the
// project, which puts that directory first on PATH. bottle must never run
// them (an agent-supplied bwrap would mean no jail at all; smolvm, pipelock
// and gitleaks run as the user): every command skips PATH entries inside a
// guest-writable workspace and says so. Each planted program writes a
// marker if it ever runs.
//
// Issue 15, points 2 and 3: the same holds for the programs a config names
// (a `supervise` sidecar by bare name, found on the raw PATH before), for
// relative and empty PATH entries (`.`, `node_modules/.bin`, ``: the
// directory bottle was started from, the workspace), and for the git gate's
// own git (spawned by name with the launcher's cwd before). Every child
// bottle starts runs with the trusted PATH (bwrap with no environment at
// all) and in the stage dir.
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir } from "./helpers/fakes.js";
import { makeUpstreamRepo, plainGitEnv, startUpstream } from "./helpers/git-upstream.js";
import { baseConfig, describe, freshFakes, hangMarker, makeProject, runBottle, startBottle, waitForMarker, writeProjectConfig } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const project = makeProject("plant-bin");
const ws = join(project.dir, "ws");
const bin = join(ws, "node_modules", ".bin");
const markers = tempDir("bpb-");
mkdirSync(bin, { recursive: true });
const plant = (dir: string, tool: string): void => {
  writeFileSync(join(dir, tool), `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(join(markers, "ran"))}\nexit 0\n`);
  chmodSync(join(dir, tool), 0o755);
};
for (const tool of ["bwrap", "smolvm", "gvproxy", "pipelock", "gitleaks", "git", "fake-sidecar"]) {
  plant(bin, tool);
  plant(ws, tool);
}
// What `npx bottle` gives: the project's .bin first, then the real tools.
const PATH = `${bin}:${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
const ran = (): string => (existsSync(join(markers, "ran")) ? readFileSync(join(markers, "ran"), "utf8") : "");

test("build skips the workspace's programs on PATH and names the directory it skipped", async () => {
  const build = await runBottle(project, ["build"], { path: PATH });
  assert.is(build.code, 0, describe(build));
  assert.is(ran(), "", "a planted program ran");
  assert.match(build.stderr, `not looking for programs in ${bin} (on PATH): it is inside a workspace a bottle's guest can write`);
});

test("launch and rm run the real tools, never the planted ones (rm also skips registered workspaces)", async () => {
  freshFakes(project);
  const launch = await runBottle(project, ["launch"], { path: PATH });
  assert.is(launch.code, 0, describe(launch));
  assert.match(launch.stdout + launch.stderr, "fake-smolvm exec", "the real (fake) smolvm ran the agent");
  const rm = await runBottle(project, ["rm", project.name, "--yes"], { path: PATH, cwd: join(project.dir, "ws") });
  assert.is(rm.code, 0, describe(rm));
  assert.is(ran(), "", "a planted program ran");
});

test("rm with no smolvm on the trusted path says so; it does not fall back to the planted one", async () => {
  freshFakes(project);
  const launch = await runBottle(project, ["launch"], { path: PATH });
  assert.is(launch.code, 0, describe(launch));
  // No real smolvm anywhere but the workspace's .bin.
  const rm = await runBottle(project, ["rm", project.name, "--yes"], { path: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, cwd: join(project.dir, "ws") });
  assert.is(rm.code, 0, describe(rm));
  assert.match(rm.stdout + rm.stderr, "smolvm is not installed, so machine");
  assert.is(ran(), "", "a planted program ran");
});

/** The pids of the launcher's children, from its run record. */
function children(): Record<string, number> {
  const record = JSON.parse(readFileSync(join(project.runDir, "supervisor.json"), "utf8")) as { children: Record<string, { pid: number }> };
  return Object.fromEntries(Object.entries(record.children).map(([role, { pid }]) => [role, pid]));
}

function environPath(pid: number): string {
  const entry = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((e) => e.startsWith("PATH="));
  return entry?.slice("PATH=".length) ?? "(none)";
}

test("a supervise sidecar named by bare name is found on the trusted path; every child runs with that PATH (the jail's bwrap with no environment at all), in the stage dir", async () => {
  freshFakes(project);
  writeProjectConfig(project, { ...baseConfig(project.name), supervise: { command: ["fake-sidecar", "--port", "{port}", "--name", "sup"] } });
  // Started from inside the workspace, as `npm run` there would.
  const launcher = startBottle(project, ["launch", "--config", join(project.dir, "bottle.config.ts")], { path: PATH, cwd: ws, env: { FAKE_HANG: "smolvm:exec" } });
  try {
    await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
    const pids = children();
    assert.ok(pids.supervise !== undefined && pids.pipelock !== undefined && pids.jail !== undefined, JSON.stringify(pids));
    for (const [role, pid] of Object.entries(pids)) {
      if (role === "agent") continue; // smolvm exec, attached to the terminal: checked by the fake's own record
      assert.is(readlinkSync(`/proc/${pid}/cwd`), project.stageDir, `${role}'s working directory`);
      if (role === "jail") {
        // bwrap, started by the launcher itself with no environment at all: no PATH to search.
        assert.is(readFileSync(`/proc/${pid}/environ`, "utf8"), "", "bwrap's environment");
        continue;
      }
      const path = environPath(pid);
      assert.not.ok(path.split(":").some((entry) => entry === "" || !entry.startsWith("/") || entry.startsWith(ws)), `${role}'s PATH: ${path}`);
    }
  } finally {
    await runBottle(project, ["stop", project.name]);
  }
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assert.is(ran(), "", "a planted program ran");
  writeProjectConfig(project, baseConfig(project.name));
});

test("relative and empty PATH entries are dropped, naming each; the git gate's git is never the workspace's", async () => {
  const root = tempDir("bpb-git-");
  const hostEnv = plainGitEnv(join(root, "home"));
  mkdirSync(join(root, "repos"));
  makeUpstreamRepo(join(root, "repos"), "app", hostEnv);
  const upstream = await startUpstream(join(root, "repos"), "plant-token-7c1d", hostEnv);
  freshFakes(project);
  writeProjectConfig(project, { ...baseConfig(project.name), gitGate: { remotes: { origin: { url: upstream.url("app"), token: { fromEnv: "PLANT_GIT_TOKEN" }, push: [] } } } });
  // `.`, a relative node_modules/.bin and an empty entry: each means the workspace here.
  const relativePath = `.:node_modules/.bin::${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
  const launcher = startBottle(project, ["launch", "--config", join(project.dir, "bottle.config.ts")], {
    path: relativePath,
    cwd: ws,
    env: { FAKE_HANG: "smolvm:exec", PLANT_GIT_TOKEN: "plant-token-7c1d" },
  });
  try {
    await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
    // A fetch's first request: the gate refreshes its mirror, then runs git http-backend.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: join(project.runDir, "git-gate.sock"), path: "/origin.git/info/refs?service=git-upload-pack" }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    assert.is(status, 200);
    for (const entry of [".", "node_modules/.bin"]) assert.match(launcher.stderr(), `not looking for programs in ${entry} (on PATH)`);
    assert.match(launcher.stderr(), "not looking for programs in an empty PATH entry");
  } finally {
    await runBottle(project, ["stop", project.name]);
    await upstream.close();
  }
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assert.is(ran(), "", "a planted program ran");
  writeProjectConfig(project, baseConfig(project.name));
});

test.run();
