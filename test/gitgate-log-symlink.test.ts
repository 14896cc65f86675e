// The gate's log (<stage>/logs/git-gate.log) is never written through a
// symlink: one planted at the name before the gate starts stops the gate
// (exit 1, naming the file and the fix) with the link's target untouched;
// one swapped in while it runs gets nothing either (the gate appends to
// the file it opened at start, and its hook refuses the push rather than
// follow the link), and no push reaches the upstream.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { waitForPath } from "../src/backends/smolmachines/process/readiness.js";
import type { ExitInfo } from "../src/backends/smolmachines/process/supervisor.js";
import { gitGateProcess, gitGateSocket } from "../src/gitgate/start.js";
import { findTool } from "../src/lib/host-tools.js";
import { remote, startGateUnderTest } from "./helpers/git-gate.js";
import { git, makeUpstreamRepo, plainGitEnv, startUpstream, type Upstream } from "./helpers/git-upstream.js";
import { tempDir } from "./helpers/tmp.js";

const TOKEN = `ls-token-${randomBytes(10).toString("hex")}`;
const VICTIM_TEXT = "the victim's own content\n";
const root = tempDir("gitgate-gatefix-log-");
const hostEnv = plainGitEnv(join(root, "home"));
mkdirSync(join(root, "repos"));
makeUpstreamRepo(join(root, "repos"), "app", hostEnv);
let upstream: Upstream;

test.before(async () => {
  upstream = await startUpstream(join(root, "repos"), TOKEN, hostEnv);
});
test.after(() => upstream.close());

function victim(dir: string): string {
  const path = join(dir, "victim.txt");
  writeFileSync(path, VICTIM_TEXT);
  return path;
}

test("a symlink at the log's name before the gate starts: the gate refuses to start and writes nothing through it", async () => {
  const dir = join(root, "before");
  const logs = join(dir, "stage", "logs");
  const runDir = join(dir, "run");
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  mkdirSync(runDir, { mode: 0o700 });
  const target = victim(dir);
  const log = join(logs, "git-gate.log");
  symlinkSync(target, log);
  const socket = gitGateSocket(runDir);
  const { command, args, env } = gitGateProcess({
    remotes: { origin: remote(upstream.url("app"), ["agent/*"]) },
    tokens: { origin: TOKEN },
    secrets: {},
    listen: { socket },
    dir: join(dir, "stage", "git"),
    log,
    gitleaks: null,
    pathEnv: process.env.PATH ?? "/usr/bin:/bin",
  });
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<ExitInfo>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  const ready = await waitForPath(socket, { timeoutMs: 15_000, exited, what: "the git gate" }).then(
    () => true,
    () => false,
  );
  if (ready) child.kill("SIGKILL");
  assert.not.ok(ready, "the gate started over a symlinked log");
  assert.equal(await exited, { code: 1, signal: null });
  assert.match(stderr, `git-gate: refusing to write the gate's log ${log}: it is a symlink (someone could point it at your files); remove it`);
  assert.is(readFileSync(target, "utf8"), VICTIM_TEXT);
  assert.not.ok(existsSync(socket));
});

test("a symlink swapped in while the gate runs: a fetch logs to the gate's own file, a push is refused, the victim is unchanged", async () => {
  const dir = join(root, "during");
  mkdirSync(dir);
  const target = victim(dir);
  const gate = await startGateUnderTest({ root: dir, remotes: { origin: remote(upstream.url("app"), ["agent/*"]) }, tokens: { origin: TOKEN }, secrets: {}, gitleaks: findTool("gitleaks") });
  try {
    const opened = `${gate.log}.opened`;
    renameSync(gate.log, opened);
    symlinkSync(target, gate.log);
    const work = join(dir, "work");
    const clone = await git(["clone", "--quiet", upstream.url("app"), work], dir, gate.guestEnv);
    assert.is(clone.code, 0, clone.stderr);
    assert.match(readFileSync(opened, "utf8"), /fetch origin: mirror refreshed/);
    assert.is(readFileSync(target, "utf8"), VICTIM_TEXT);

    writeFileSync(join(work, "feature.txt"), "a feature\n");
    for (const args of [["add", "feature.txt"], ["commit", "--quiet", "-m", "feature"]]) assert.is((await git(args, work, gate.guestEnv)).code, 0);
    const before = upstream.requests.length;
    const push = await git(["push", "origin", "HEAD:refs/heads/agent/work"], work, gate.guestEnv);
    assert.is.not(push.code, 0, push.stderr);
    assert.match(push.stderr, /remote: git gate: push to origin refused, nothing was sent upstream:/);
    assert.match(push.stderr, /the gate's log is not a plain file it can append to safely/);
    assert.not.match(push.stderr, gate.stageDir, "the agent is told the host's stage path");
    assert.equal(upstream.pushesSince(before), [], "the upstream got a push request");
    assert.is(readFileSync(target, "utf8"), VICTIM_TEXT);
  } finally {
    await gate.stop();
  }
  assert.is(readFileSync(target, "utf8"), VICTIM_TEXT);
});

test.run();
