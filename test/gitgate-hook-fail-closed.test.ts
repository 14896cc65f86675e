// The pre-receive hook fails closed when it is run with less than the gate
// gives it, or when a check cannot run (issue 20: mutants in pre-receive.ts
// that let such a push go upstream survived, since through the gate these
// cases are refused earlier). The hook is run here as receive-pack runs it:
// in a mirror, with the gate's environment and the `old new ref` lines on
// stdin, pushing to a file:// upstream. A refused push leaves the upstream
// as it was; the control push lands, so a refusal is not a broken harness.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findTool } from "../src/lib/host-tools.js";
import { plainGitEnv } from "./helpers/git-upstream.js";
import { requireTools, skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";

const missing = requireTools(["git", "gitleaks"]);
if (missing) {
  skipSuite("gitgate-hook-fail-closed", missing);
  process.exit(0);
}

const HOOK = fileURLToPath(new URL("../src/gitgate/pre-receive.js", import.meta.url));
const ZERO = "0".repeat(40);
const root = tempDir("gitgate-hook-");
const env = plainGitEnv(join(root, "home"));

function gitSync(args: string[], cwd: string): string {
  const run = spawnSync("git", args, { cwd, env, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr}`);
  return run.stdout.trim();
}

// The upstream, and the gate's mirror of it holding one commit the "push" brings.
const upstream = join(root, "up.git");
gitSync(["init", "--quiet", "--bare", "--initial-branch=main", upstream], root);
const seed = join(root, "seed");
gitSync(["init", "--quiet", "--initial-branch=main", seed], root);
gitSync(["commit", "--quiet", "--allow-empty", "-m", "first"], seed);
gitSync(["push", "--quiet", upstream, "main"], seed);
const mirror = join(root, "mirror.git");
gitSync(["clone", "--quiet", "--mirror", upstream, mirror], root);
const pushed = gitSync(["commit-tree", "-p", "HEAD", "-m", "what the agent pushes", gitSync(["rev-parse", "HEAD^{tree}"], mirror)], mirror);

const TOKEN = "hook-test-token";
const OPTIONS = {
  listen: { socket: join(root, "gate.sock") },
  dir: root,
  log: join(root, "git-gate.log"),
  gitleaks: findTool("gitleaks"),
  git: findTool("git")!,
  remotes: [{ name: "origin", url: `file://${upstream}`, username: "x", tokenEnv: "BOTTLE_GIT_GATE_TOKEN_0", push: ["agent/*"], allowForcePush: false, allowDelete: false }],
};

interface HookRun {
  code: number | null;
  stderr: string;
}

function runHook(lines: string, extra: Record<string, string | undefined>): Promise<HookRun> {
  const hookEnv: NodeJS.ProcessEnv = { ...env, BOTTLE_GIT_GATE: JSON.stringify(OPTIONS), BOTTLE_GIT_GATE_TOKEN_0: TOKEN, BOTTLE_GIT_GATE_REMOTE: "origin", ...extra };
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete hookEnv[key];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HOOK], { cwd: mirror, env: hookEnv, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdin.end(lines);
  });
}

function upstreamRef(ref: string): string | null {
  const run = spawnSync("git", ["rev-parse", "--verify", "--quiet", ref], { cwd: upstream, env, encoding: "utf8" });
  return run.status === 0 ? run.stdout.trim() : null;
}

test("(control) a new branch from the hook lands upstream", async () => {
  const run = await runHook(`${ZERO} ${pushed} refs/heads/agent/control\n`, {});
  assert.is(run.code, 0, run.stderr);
  assert.is(upstreamRef("refs/heads/agent/control"), pushed);
});

test("a check that cannot run (merge-base on an old value the mirror lacks) refuses the push; nothing goes upstream", async () => {
  const run = await runHook(`${"1".repeat(40)} ${pushed} refs/heads/agent/unknown-old\n`, {});
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, "git gate: push to origin refused, nothing was sent upstream:");
  assert.match(run.stderr, "the push could not be checked: git merge-base failed");
  assert.is(upstreamRef("refs/heads/agent/unknown-old"), null);
});

test("a hook run without the gate's remote name, or with one the gate does not have, refuses; nothing goes upstream", async () => {
  for (const remote of [undefined, "elsewhere"]) {
    const ref = `refs/heads/agent/remote-${remote ?? "unset"}`;
    const run = await runHook(`${ZERO} ${pushed} ${ref}\n`, { BOTTLE_GIT_GATE_REMOTE: remote });
    assert.is(run.code, 1, run.stderr);
    assert.match(run.stderr, "git gate: refused: this push reached the mirror without the gate (no remote named)");
    assert.is(upstreamRef(ref), null, `${remote ?? "unset"}: pushed upstream`);
  }
});

test("a hook without the remote's token refuses; nothing goes upstream", async () => {
  const run = await runHook(`${ZERO} ${pushed} refs/heads/agent/no-token\n`, { BOTTLE_GIT_GATE_TOKEN_0: undefined });
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, "git gate: push to origin refused: the gate has no token for it");
  assert.is(upstreamRef("refs/heads/agent/no-token"), null);
});

test.run();
