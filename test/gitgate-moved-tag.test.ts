// A tag that already exists upstream, moved to another commit, is a history
// rewrite whichever way it moves (issue 20): the git gate refuses it unless
// the remote sets allowForcePush, even when the new commit descends from the
// old one (which would make it a fast-forward for a branch), and the
// upstream never sees a push request for it. Lightweight and annotated tags
// alike, through the real gate, real git and a real upstream.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
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
  skipSuite("gitgate-moved-tag", missing);
  process.exit(0);
}

const TOKEN = `tag-token-${randomBytes(10).toString("hex")}`;
const root = tempDir("gitgate-tag-");
const hostEnv = plainGitEnv(join(root, "home"));
mkdirSync(join(root, "repos"));
const upstreamRepos = { app: makeUpstreamRepo(join(root, "repos"), "app", hostEnv), lib: makeUpstreamRepo(join(root, "repos"), "lib", hostEnv) };
let upstream: Upstream;

test.before(async () => {
  upstream = await startUpstream(join(root, "repos"), TOKEN, hostEnv);
});
test.after(() => upstream.close());

async function upstreamRef(repo: keyof typeof upstreamRepos, ref: string): Promise<string | null> {
  const run = await git(["rev-parse", "--verify", "--quiet", ref], upstreamRepos[repo], hostEnv);
  return run.code === 0 ? run.stdout.trim() : null;
}

/** A gate for `repo` that may push agent/* branches and v* tags, and a clone through it. */
async function cloneThroughGate(repo: keyof typeof upstreamRepos, allowForcePush: boolean): Promise<{ gate: GateUnderTest; work: string }> {
  const dir = tempDir("gitgate-tag-s-");
  const gate = await startGateUnderTest({
    root: dir,
    remotes: { origin: remote(upstream.url(repo), ["agent/*", "refs/tags/v*"], { allowForcePush }) },
    tokens: { origin: TOKEN },
    secrets: {},
    gitleaks: findTool("gitleaks"),
  });
  const work = join(dir, "work");
  await gitOk(["clone", "--quiet", upstream.url(repo), work], dir, gate.guestEnv);
  return { gate, work };
}

async function commit(work: string, env: NodeJS.ProcessEnv, message: string): Promise<string> {
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", message], work, env);
  return gitOk(["rev-parse", "HEAD"], work, env);
}

/** The object a tag names upstream, peeled to its commit. */
async function upstreamTagCommit(repo: keyof typeof upstreamRepos, tag: string): Promise<string | null> {
  return upstreamRef(repo, `refs/tags/${tag}^{commit}`);
}

for (const kind of ["lightweight", "annotated"] as const) {
  const aTag = kind === "annotated" ? "an annotated tag" : "a lightweight tag";
  const tagArgs = (tag: string): string[] => (kind === "annotated" ? ["tag", "--force", "-a", "-m", `release ${tag}`, tag] : ["tag", "--force", tag]);

  test(`${aTag} moved forward (to a descendant of its commit) is refused, and the upstream sees no push`, async () => {
    const { gate, work } = await cloneThroughGate("app", false);
    const env = gate.guestEnv;
    const tag = `v1-${kind}`;
    try {
      const first = await commit(work, env, "release 1");
      await gitOk([...tagArgs(tag)], work, env);
      const create = await git(["push", "origin", `refs/tags/${tag}`], work, env);
      assert.is(create.code, 0, `a new tag is allowed:\n${create.stderr}`);
      assert.is(await upstreamTagCommit("app", tag), first);

      const second = await commit(work, env, "release 1, fixed");
      await gitOk(["merge-base", "--is-ancestor", first, second], work, env); // a fast-forward, were it a branch
      await gitOk([...tagArgs(tag)], work, env);
      const before = upstream.requests.length;
      const move = await git(["push", "--force", "origin", `refs/tags/${tag}`], work, env);
      assert.is.not(move.code, 0, `the moved tag was pushed:\n${move.stderr}`);
      assert.match(move.stderr, "remote: git gate: push to origin refused, nothing was sent upstream:");
      assert.match(move.stderr, `refs/tags/${tag}: a non-fast-forward update (force push) is not allowed (allowForcePush is off for remote origin)`);
      assert.equal(upstream.pushesSince(before), [], "the upstream got a push request");
      assert.is(await upstreamTagCommit("app", tag), first, "the tag moved upstream");
      assert.match(gate.readLog(), `push origin refs/tags/${tag}: refused`);
    } finally {
      await gate.stop();
    }
  });

  test(`${aTag} moved backward is refused too`, async () => {
    const { gate, work } = await cloneThroughGate("app", false);
    const env = gate.guestEnv;
    const tag = `v2-${kind}`;
    try {
      const first = await commit(work, env, "release 2 candidate");
      const second = await commit(work, env, "release 2");
      await gitOk([...tagArgs(tag), second], work, env);
      assert.is((await git(["push", "origin", `refs/tags/${tag}`], work, env)).code, 0);
      await gitOk([...tagArgs(tag), first], work, env);
      const before = upstream.requests.length;
      const move = await git(["push", "--force", "origin", `refs/tags/${tag}`], work, env);
      assert.is.not(move.code, 0, move.stderr);
      assert.match(move.stderr, `refs/tags/${tag}: a non-fast-forward update (force push) is not allowed`);
      assert.equal(upstream.pushesSince(before), []);
      assert.is(await upstreamTagCommit("app", tag), second);
    } finally {
      await gate.stop();
    }
  });

  test(`with allowForcePush, the moved ${kind} tag goes upstream`, async () => {
    const { gate, work } = await cloneThroughGate("lib", true);
    const env = gate.guestEnv;
    const tag = `v3-${kind}`;
    try {
      await commit(work, env, "release 3");
      await gitOk([...tagArgs(tag)], work, env);
      assert.is((await git(["push", "origin", `refs/tags/${tag}`], work, env)).code, 0);
      const second = await commit(work, env, "release 3, fixed");
      await gitOk([...tagArgs(tag)], work, env);
      const move = await git(["push", "--force", "origin", `refs/tags/${tag}`], work, env);
      assert.is(move.code, 0, move.stderr);
      assert.is(await upstreamTagCommit("lib", tag), second);
    } finally {
      await gate.stop();
    }
  });
}

test.run();
