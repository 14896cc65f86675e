// What the git gate sends upstream once a push passes its checks, through
// the real gate, real git and a real upstream (mutants `npm run mutate`
// found unkilled in push-check.ts and pre-receive.ts, issue 20):
// - a fast-forward of an existing branch is checked in the push's
//   quarantine and goes upstream (no other test updated an existing branch);
// - a push of several refs is atomic upstream: when the upstream refuses
//   one, none lands.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findTool } from "../src/lib/host-tools.js";
import { remote, startGateUnderTest, type GateUnderTest } from "./helpers/git-gate.js";
import { git, gitOk, makeUpstreamRepo, plainGitEnv, startUpstream, type Upstream } from "./helpers/git-upstream.js";
import { requireTools, skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";

const missing = requireTools(["git", "gitleaks"]);
if (missing) {
  skipSuite("gitgate-upstream-push", missing);
  process.exit(0);
}

const TOKEN = `up-token-${randomBytes(10).toString("hex")}`;
const root = tempDir("gitgate-up-");
const hostEnv = plainGitEnv(join(root, "home"));
mkdirSync(join(root, "repos"));
const upstreamRepo = makeUpstreamRepo(join(root, "repos"), "app", hostEnv, "agent/protected");

let upstream: Upstream;
let gate: GateUnderTest;
let work: string;

test.before(async () => {
  upstream = await startUpstream(join(root, "repos"), TOKEN, hostEnv);
  gate = await startGateUnderTest({
    root: join(root, "gate"),
    remotes: { origin: remote(upstream.url("app"), ["agent/*"]) },
    tokens: { origin: TOKEN },
    secrets: {},
    gitleaks: findTool("gitleaks"),
  });
  work = join(root, "work");
  await gitOk(["clone", "--quiet", upstream.url("app"), work], root, gate.guestEnv);
});

test.after(async () => {
  await gate?.stop();
  await upstream?.close();
});

async function commit(message: string): Promise<string> {
  writeFileSync(join(work, `${message.replace(/\W+/g, "-")}.txt`), `${message}\n`);
  await gitOk(["add", "."], work, gate.guestEnv);
  await gitOk(["commit", "--quiet", "-m", message], work, gate.guestEnv);
  return gitOk(["rev-parse", "HEAD"], work, gate.guestEnv);
}

async function upstreamRef(ref: string): Promise<string | null> {
  const run = await git(["rev-parse", "--verify", "--quiet", ref], upstreamRepo, hostEnv);
  return run.code === 0 ? run.stdout.trim() : null;
}

test("a fast-forward of an existing branch is checked and goes upstream", async () => {
  const first = await commit("ff one");
  assert.is((await git(["push", "origin", "HEAD:refs/heads/agent/ff"], work, gate.guestEnv)).code, 0);
  assert.is(await upstreamRef("refs/heads/agent/ff"), first);
  const second = await commit("ff two");
  const push = await git(["push", "origin", "HEAD:refs/heads/agent/ff"], work, gate.guestEnv);
  assert.is(push.code, 0, push.stderr);
  assert.is(await upstreamRef("refs/heads/agent/ff"), second);
});

test("a push of several refs is atomic upstream: the upstream refuses one, none lands", async () => {
  await commit("two refs at once");
  const push = await git(["push", "origin", "HEAD:refs/heads/agent/atomic-a", "HEAD:refs/heads/agent/protected"], work, gate.guestEnv);
  assert.is.not(push.code, 0, push.stderr);
  assert.match(push.stderr, "upstream: agent/protected is a protected branch");
  assert.is(await upstreamRef("refs/heads/agent/atomic-a"), null, "one ref of the refused push landed upstream");
});

test.run();
