// What the git gate sends upstream once a push passes its checks, through
// the real gate, real git and a real upstream (mutants `npm run mutate`
// found unkilled in push-check.ts and pre-receive.ts, issue 20):
// - a fast-forward of an existing branch is checked in the push's
//   quarantine and goes upstream (no other test updated an existing branch);
// - a push of several refs is atomic upstream: when the upstream refuses
//   one ref alone (its update hook), the other does not land either;
// - the upstream's per-ref answer (git push --porcelain) reaches the agent;
// - the git that pushes upstream gets this remote's credential and the
//   gate's isolation, not the gate's other variables: no other token, no
//   secret value, no options (pre-receive.ts's environment filter). It is
//   seen through a git wrapper on the gate's search path that records the
//   environment of every `git push` and then runs the real git.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findOnPath, findTool } from "../src/lib/host-tools.js";
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
const CANARY = `canary-${randomBytes(10).toString("hex")}`;
const root = tempDir("gitgate-up-");
// The gate finds this `git` first: it records each push's environment (NUL-separated) and runs the real one.
const realGit = findOnPath("git", process.env.PATH ?? "")!;
const wrapperDir = join(root, "wrapper-bin");
const pushEnvFile = join(root, "push-env");
mkdirSync(wrapperDir);
writeFileSync(join(wrapperDir, "git"), `#!/bin/sh\nif [ "$1" = push ]; then env -0 > '${pushEnvFile}'; fi\nexec '${realGit}' "$@"\n`);
chmodSync(join(wrapperDir, "git"), 0o755);
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
    secrets: { CANARY },
    gitleaks: findTool("gitleaks"),
    pathEnv: [wrapperDir, process.env.PATH ?? "/usr/bin:/bin"].join(delimiter),
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
  // The upstream's own answer for each ref reaches the agent.
  assert.match(push.stderr, `\t${second}:refs/heads/agent/ff\t`);
  assert.match(push.stderr, "remote: Done");
});

/** The environment the last `git push` the gate ran had. */
function lastPushEnv(): Map<string, string> {
  const entries = readFileSync(pushEnvFile, "utf8").split("\0").filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

test("the upstream push gets this remote's credential and the gate's isolation, and none of the gate's other variables", async () => {
  writeFileSync(pushEnvFile, "");
  await commit("env probe");
  const push = await git(["push", "origin", "HEAD:refs/heads/agent/env-probe"], work, gate.guestEnv);
  assert.is(push.code, 0, push.stderr);
  const env = lastPushEnv();
  assert.ok(env.size > 0, "the wrapper recorded no push");
  const gateNames = [...env.keys()].filter((name) => name.startsWith("BOTTLE_GIT_GATE")).sort();
  assert.equal(gateNames, ["BOTTLE_GIT_GATE_PASSWORD", "BOTTLE_GIT_GATE_USERNAME"], "the gate's options, tokens, secrets or remote name reached the upstream push");
  assert.is(env.get("BOTTLE_GIT_GATE_PASSWORD"), TOKEN);
  for (const [name, value] of env) assert.not.ok(value.includes(CANARY), `${name} holds the secret's value`);
  // No system or global git config of the host's applies to the push, as to the gate's fetches.
  assert.is(env.get("GIT_CONFIG_NOSYSTEM"), "1");
  assert.is(env.get("GIT_CONFIG_GLOBAL"), "/dev/null");
});

test("a push of several refs is atomic upstream: the upstream refuses one ref alone (its update hook), the other does not land", async () => {
  // A per-ref refusal, unlike the pre-receive one below (which refuses the whole push, atomic or not).
  writeFileSync(join(upstreamRepo, "hooks", "update"), `#!/bin/sh\nif [ "$1" = refs/heads/agent/update-refused ]; then echo "upstream: $1 refused by its update hook" >&2; exit 1; fi\n`, { mode: 0o755 });
  await commit("one ref refused alone");
  const push = await git(["push", "origin", "HEAD:refs/heads/agent/update-refused", "HEAD:refs/heads/agent/atomic-b"], work, gate.guestEnv);
  assert.is.not(push.code, 0, push.stderr);
  assert.match(push.stderr, "upstream: refs/heads/agent/update-refused refused by its update hook");
  assert.is(await upstreamRef("refs/heads/agent/atomic-b"), null, "the other ref of the refused push landed upstream");
});

test("a push of several refs is atomic upstream: the upstream refuses one, none lands", async () => {
  await commit("two refs at once");
  const push = await git(["push", "origin", "HEAD:refs/heads/agent/atomic-a", "HEAD:refs/heads/agent/protected"], work, gate.guestEnv);
  assert.is.not(push.code, 0, push.stderr);
  assert.match(push.stderr, "upstream: agent/protected is a protected branch");
  assert.is(await upstreamRef("refs/heads/agent/atomic-a"), null, "one ref of the refused push landed upstream");
});

test.run();
