// The git gate fails closed: a fetch whose mirror refresh fails (a wrong
// token, an upstream that is down, an upstream that redirects elsewhere)
// fails with git's reason shown to the agent, and the gate follows no
// redirect; without gitleaks every push is refused; without its token the
// gate does not start. And the config's allowForcePush / allowDelete do
// let those updates through.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import { findTool } from "../src/lib/host-tools.js";
import * as assert from "uvu/assert";
import { remote, startGateUnderTest, startGitGate } from "./helpers/git-gate.js";
import { git, gitOk, makeUpstreamRepo, plainGitEnv, startUpstream, type Upstream } from "./helpers/git-upstream.js";
import { tempDir } from "./helpers/tmp.js";
import { gitGateProcess } from "../src/gitgate/start.js";
import { gitleaksRefusals, preamble, scannedBytes } from "../src/gitgate/gitleaks.js";

const GITLEAKS = findTool("gitleaks");
const TOKEN = `fc-token-${randomBytes(10).toString("hex")}`;
const root = tempDir("gitgate-fc-");
const hostEnv = plainGitEnv(join(root, "home"));
mkdirSync(join(root, "repos"));
const upstreamRepo = makeUpstreamRepo(join(root, "repos"), "app", hostEnv);
let upstream: Upstream;

test.before(async () => {
  upstream = await startUpstream(join(root, "repos"), TOKEN, hostEnv);
});
test.after(() => upstream.close());

/** A gitleaks that runs `before` (a shell line, in the directory it scans) and then the real one, or only `before`. */
function wrappedGitleaks(dir: string, before: string, real: string | null): string {
  const path = join(dir, "gitleaks");
  writeFileSync(path, `#!/bin/sh\n${before}\n${real ? `exec ${real} "$@"` : "exit 0"}\n`);
  chmodSync(path, 0o755);
  return path;
}

const pushed = (content: string, oid = "a".repeat(40)) => [{ oid, type: "blob", path: "notes.txt", content: Buffer.from(content) }];
const update = [{ old: "0".repeat(40), new: "b".repeat(40), ref: "refs/heads/agent/x" }];

test("gitleaks is fed each object after a neutral line that covers every offset its file-type detector reads", () => {
  assert.is(preamble(0).length, 262);
  assert.is(preamble(32773 - 262).length, 262);
  assert.is(preamble(32773 - 261).length, 32774, "a file that can reach ISO 9660's CD001 (32769-32773)");
  for (const size of [0, 1000, 40000]) assert.match(preamble(size).toString(), /^ +\n$/);
  assert.is(scannedBytes("9:00AM INF scanned ~1234 bytes (1.23 KB) in 5ms\n"), 1234);
  assert.is(scannedBytes("nothing"), null);
});

test("a push gitleaks did not read all of is refused (a file it skipped, or no word of how much it read)", async () => {
  if (GITLEAKS === null) return void console.log("skipped: gitleaks byte count: no gitleaks binary");
  const dir = scenarioRoot();
  const key = ["AK", "IA"].join("") + "QWERTYUIOPASDFGH";
  // The real gitleaks, but the first object is gone before it looks: as if it had skipped that file.
  const skipping = wrappedGitleaks(join(dir), "rm -rf 0", GITLEAKS);
  const refusals = await gitleaksRefusals(skipping, update, pushed(`aws_access_key_id = ${key}\n`), dir, []);
  assert.equal(refusals.length, 1, refusals.join("\n"));
  assert.match(refusals[0]!, /^gitleaks read \d+ of the \d+ bytes it was given: it skipped some of the pushed content unread, so the push cannot be checked$/);
  const silentDir = join(dir, "silent");
  mkdirSync(silentDir);
  const silent = wrappedGitleaks(silentDir, `for a in "$@"; do case $prev in --report-path) echo '[]' > "$a";; esac; prev=$a; done`, null);
  assert.equal(await gitleaksRefusals(silent, update, pushed("hello\n"), dir, []), ["gitleaks did not say how much of the push it read, so the gate cannot tell it read all of it"]);
  // And the real one, whole: nothing to refuse in clean text.
  assert.equal(await gitleaksRefusals(GITLEAKS, update, pushed("hello\n"), dir, []), []);
});

let scenario = 0;
function scenarioRoot(): string {
  const dir = join(root, `s${++scenario}`);
  mkdirSync(dir);
  return dir;
}

test("a wrong token: the clone fails with the upstream's refusal shown to the agent, and no token in it", async () => {
  const wrong = `wrong-${randomBytes(8).toString("hex")}`;
  const dir = scenarioRoot();
  const gate = await startGateUnderTest({ root: dir, remotes: { origin: remote(upstream.url("app")) }, tokens: { origin: wrong }, secrets: {}, gitleaks: GITLEAKS });
  try {
    const clone = await git(["clone", upstream.url("app"), join(dir, "work")], dir, gate.guestEnv);
    assert.is.not(clone.code, 0);
    assert.match(clone.stderr, /fatal: remote error: git gate: could not refresh origin from http:\/\/127\.0\.0\.1:\d+\/app\.git: .*Authentication failed/);
    assert.not.match(clone.stderr, wrong);
    assert.match(gate.readLog(), /fetch origin: refused: git gate: could not refresh origin/);
    assert.not.match(gate.readLog(), wrong);
  } finally {
    await gate.stop();
  }
});

test("an upstream that is down: the fetch fails, never served from the stale mirror", async () => {
  const dir = scenarioRoot();
  const down = await startUpstream(join(root, "repos"), TOKEN, hostEnv);
  const gate = await startGateUnderTest({ root: dir, remotes: { origin: remote(down.url("app")) }, tokens: { origin: TOKEN }, secrets: {}, gitleaks: GITLEAKS });
  try {
    const work = join(dir, "work");
    assert.is((await git(["clone", "--quiet", down.url("app"), work], dir, gate.guestEnv)).code, 0);
    await down.close();
    const fetch = await git(["fetch", "origin"], work, gate.guestEnv);
    assert.is.not(fetch.code, 0);
    assert.match(fetch.stderr, /fatal: remote error: git gate: could not refresh origin .*(Failed to connect|Couldn't connect)/);
  } finally {
    await gate.stop();
  }
});

test("an upstream that redirects elsewhere: the gate does not follow, and the other host gets nothing", async () => {
  const dir = scenarioRoot();
  const before = upstream.requests.length;
  const redirector: Server = createServer((req, res) => {
    res.writeHead(302, { location: `${upstream.url("app").replace(/\/app\.git$/, "")}${req.url}` });
    res.end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/app.git`;
  const gate = await startGateUnderTest({ root: dir, remotes: { origin: remote(url) }, tokens: { origin: TOKEN }, secrets: {}, gitleaks: GITLEAKS });
  try {
    const clone = await git(["clone", url, join(dir, "work")], dir, gate.guestEnv);
    assert.is.not(clone.code, 0);
    assert.match(clone.stderr, /fatal: remote error: git gate: could not refresh origin/);
    assert.equal(upstream.requests.slice(before), [], "the redirect target was contacted");
  } finally {
    await gate.stop();
    await new Promise<void>((resolve) => redirector.close(() => resolve()));
  }
});

test("without gitleaks every push is refused, saying why, and nothing reaches the upstream", async () => {
  const dir = scenarioRoot();
  const gate = await startGateUnderTest({ root: dir, remotes: { origin: remote(upstream.url("app"), ["agent/*"]) }, tokens: { origin: TOKEN }, secrets: {}, gitleaks: null });
  try {
    const work = join(dir, "work");
    await gitOk(["clone", "--quiet", upstream.url("app"), work], dir, gate.guestEnv);
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "harmless"], work, gate.guestEnv);
    const before = upstream.requests.length;
    const push = await git(["push", "origin", "HEAD:refs/heads/agent/harmless"], work, gate.guestEnv);
    assert.is.not(push.code, 0);
    assert.match(push.stderr, /remote:\s+- gitleaks is not installed where the gate looks .* every push is refused until it is/);
    assert.equal(upstream.pushesSince(before), []);
    assert.match(gate.readLog(), /gitleaks was not found: every push will be refused/);
  } finally {
    await gate.stop();
  }
});

test("allowForcePush and allowDelete let a rewrite and a deletion through (with a lease on what the mirror saw)", async () => {
  if (GITLEAKS === null) return void console.log("skipped: gitgate-fail-closed allow flags: no gitleaks binary");
  const dir = scenarioRoot();
  const gate = await startGateUnderTest({
    root: dir,
    remotes: { origin: remote(upstream.url("app"), ["agent/*"], { allowForcePush: true, allowDelete: true }) },
    tokens: { origin: TOKEN },
    secrets: {},
    gitleaks: GITLEAKS,
  });
  try {
    const work = join(dir, "work");
    await gitOk(["clone", "--quiet", upstream.url("app"), work], dir, gate.guestEnv);
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "one"], work, gate.guestEnv);
    await gitOk(["push", "--quiet", "origin", "HEAD:refs/heads/agent/rewrite"], work, gate.guestEnv);
    await gitOk(["commit", "--quiet", "--amend", "--allow-empty", "-m", "one, rewritten"], work, gate.guestEnv);
    const force = await git(["push", "--force", "origin", "HEAD:refs/heads/agent/rewrite"], work, gate.guestEnv);
    assert.is(force.code, 0, force.stderr);
    assert.is(await gitOk(["rev-parse", "refs/heads/agent/rewrite"], upstreamRepo, hostEnv), await gitOk(["rev-parse", "HEAD"], work, gate.guestEnv));
    const del = await git(["push", "origin", ":refs/heads/agent/rewrite"], work, gate.guestEnv);
    assert.is(del.code, 0, del.stderr);
    assert.is((await git(["rev-parse", "--verify", "--quiet", "refs/heads/agent/rewrite"], upstreamRepo, hostEnv)).code, 1);
  } finally {
    await gate.stop();
  }
});

test("without its token the gate does not start (exit 2, naming the remote and the variable); its environment is only PATH and its own", async () => {
  const dir = scenarioRoot();
  const log = join(dir, "git-gate.log");
  const input = { remotes: { origin: remote(upstream.url("app")) }, tokens: {}, secrets: { CANARY: "x" }, listen: { socket: join(dir, "gate.sock") }, dir: join(dir, "git"), log, gitleaks: null, pathEnv: "/usr/bin:/bin" };
  const error = await startGitGate(input).then(
    () => null,
    (e: unknown) => e as Error,
  );
  assert.ok(error, "the gate started without a token");
  assert.match(error!.message, /the git gate exited \(exit code 2\) before creating .*gate\.sock/);
  assert.match(readFileSync(log, "utf8"), "git-gate: no token for remote origin: BOTTLE_GIT_GATE_TOKEN_0 is not set");
  assert.not.ok(existsSync(join(dir, "gate.sock")));
  const env = gitGateProcess({ ...input, tokens: { origin: TOKEN } }).env;
  assert.equal(Object.keys(env).sort(), ["BOTTLE_GIT_GATE", "BOTTLE_GIT_GATE_SECRET_CANARY", "BOTTLE_GIT_GATE_TOKEN_0", "PATH"]);
  assert.not.match(env.BOTTLE_GIT_GATE!, TOKEN);
});

test.run();
