// The git gate with real git, real `git http-backend` and a real upstream
// (a loopback smart-HTTP server that wants the token and logs every
// request): the agent's git, configured only by the guest's GIT_CONFIG_*
// variables and holding no token, clones, fetches and pushes through the
// gate (on its unix socket, behind the host relay). Every refused push is
// refused with a message the agent sees, and the upstream's log shows that
// no push request reached it.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findTool } from "../src/lib/host-tools.js";
import { startGateUnderTest, remote, type GateUnderTest } from "./helpers/git-gate.js";
import { git, gitOk, type GitRun, makeUpstreamRepo, plainGitEnv, startUpstream, type Upstream } from "./helpers/git-upstream.js";
import { filesUnder } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const GITLEAKS = findTool("gitleaks");

const root = tempDir("gitgate-push-");
const hostEnv = plainGitEnv(join(root, "host-home"));
const TOKEN = `upstream-token-${randomBytes(12).toString("hex")}`;
const CANARY = `canary-${randomBytes(12).toString("hex")}`;
let upstream: Upstream;
let gate: GateUnderTest;
let upstreamRepo: string;
let work: string;

function push(args: readonly string[]): Promise<GitRun> {
  return git(["push", ...args], work, gate.guestEnv);
}

async function commitFile(name: string, content: string, message = `add ${name}`): Promise<string> {
  mkdirSync(dirname(join(work, name)), { recursive: true });
  writeFileSync(join(work, name), content);
  await gitOk(["add", name], work, gate.guestEnv);
  await gitOk(["commit", "--quiet", "-m", message], work, gate.guestEnv);
  return gitOk(["rev-parse", "HEAD"], work, gate.guestEnv);
}

async function upstreamRef(ref: string): Promise<string | null> {
  const run = await git(["rev-parse", "--verify", "--quiet", ref], upstreamRepo, hostEnv);
  return run.code === 0 ? run.stdout.trim() : null;
}

/** A refused push: the message the agent sees, and not one push request upstream. */
async function assertRefused(args: readonly string[], expected: RegExp): Promise<string> {
  const before = upstream.requests.length;
  const run = await push(args);
  assert.is.not(run.code, 0, `the push should have failed:\n${run.stderr}`);
  assert.match(run.stderr, /remote: git gate: push to origin refused, nothing was sent upstream:/);
  assert.match(run.stderr, expected);
  assert.equal(upstream.pushesSince(before), [], "the upstream got a push request");
  return run.stderr;
}

/** Back to the upstream's agent/work, dropping local commits. */
async function resetWork(): Promise<void> {
  await gitOk(["fetch", "--quiet", "origin"], work, gate.guestEnv);
  await gitOk(["reset", "--quiet", "--hard", "origin/agent/work"], work, gate.guestEnv);
}

test.before(async () => {
  const repos = join(root, "upstream");
  mkdirSync(repos);
  upstreamRepo = makeUpstreamRepo(repos, "app", hostEnv, "agent/protected");
  upstream = await startUpstream(repos, TOKEN, hostEnv);
  gate = await startGateUnderTest({
    root,
    remotes: { origin: remote(upstream.url("app"), ["agent/*"]) },
    tokens: { origin: TOKEN },
    secrets: { CANARY },
    gitleaks: GITLEAKS,
  });
  work = join(root, "work");
});

test.after(async () => {
  await gate?.stop();
  await upstream?.close();
});

test("clone through the gate: the agent uses the upstream's own URL and holds no token", async () => {
  const clone = await git(["clone", "--quiet", upstream.url("app"), work], root, gate.guestEnv);
  assert.is(clone.code, 0, clone.stderr);
  assert.is(readFileSync(join(work, "README.md"), "utf8"), "hello\n");
  assert.is(await gitOk(["rev-parse", "--abbrev-ref", "HEAD"], work, gate.guestEnv), "main");
  assert.match(gate.readLog(), /fetch origin: mirror refreshed from http:\/\/127\.0\.0\.1:\d+\/app\.git/);
  // Every upstream request that got through carried the gate's credential.
  assert.ok(upstream.requests.some((r) => r.authorized));
});

test("fetch after the upstream moved: the mirror is refreshed first", async () => {
  const seed = join(root, "upstream", "app-seed");
  writeFileSync(join(seed, "CHANGES"), "moved\n");
  await gitOk(["add", "."], seed, hostEnv);
  await gitOk(["commit", "--quiet", "-m", "upstream moved"], seed, hostEnv);
  await gitOk(["push", "--quiet", upstreamRepo, "main"], seed, hostEnv);
  const pull = await git(["pull", "--quiet", "--ff-only"], work, gate.guestEnv);
  assert.is(pull.code, 0, pull.stderr);
  assert.is(readFileSync(join(work, "CHANGES"), "utf8"), "moved\n");
});

test("a push to an allowed branch lands upstream, and the agent sees the upstream's answer", async () => {
  const head = await commitFile("feature.txt", "a feature\n");
  const run = await push(["origin", "HEAD:refs/heads/agent/work"]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, /remote: git gate: checks passed; pushing to http:\/\/127\.0\.0\.1:\d+\/app\.git/);
  assert.match(run.stderr, /\[new branch\]|refs\/heads\/agent\/work/);
  assert.is(await upstreamRef("refs/heads/agent/work"), head);
  assert.match(gate.readLog(), /push origin refs\/heads\/agent\/work: accepted and pushed to/);
});

test("a push to a branch outside `push` is refused before any upstream contact", async () => {
  await commitFile("main.txt", "to main\n");
  await assertRefused(["origin", "HEAD:refs/heads/main"], /remote:\s+- refs\/heads\/main: pushing there is not allowed \(it may push to agent\/\*\)/);
  assert.is.not(await upstreamRef("refs/heads/main"), await gitOk(["rev-parse", "HEAD"], work, gate.guestEnv));
  await resetWork();
});

test("a force push (non-fast-forward) is refused", async () => {
  await gitOk(["commit", "--quiet", "--amend", "-m", "rewritten"], work, gate.guestEnv);
  const before = await upstreamRef("refs/heads/agent/work");
  await assertRefused(["--force", "origin", "HEAD:refs/heads/agent/work"], /refs\/heads\/agent\/work: a non-fast-forward update \(force push\) is not allowed \(allowForcePush is off for remote origin\)/);
  assert.is(await upstreamRef("refs/heads/agent/work"), before);
  await resetWork();
});

test("deleting a branch is refused", async () => {
  await assertRefused(["origin", ":refs/heads/agent/work"], /refs\/heads\/agent\/work: deleting a branch is not allowed \(allowDelete is off for remote origin\)/);
  assert.ok(await upstreamRef("refs/heads/agent/work"));
});

test("a file holding the canary secret is refused", async () => {
  await commitFile("notes.txt", `remember: ${CANARY}\n`);
  const stderr = await assertRefused(["origin", "HEAD:refs/heads/agent/work"], /file notes\.txt \(blob [0-9a-f]{12}\) contains the value of secret CANARY/);
  assert.not.match(stderr, CANARY);
  await resetWork();
});

test("a commit message holding the secret base64-encoded (at each alignment) is refused", async () => {
  for (const prefix of ["", "x", "xy"]) {
    const encoded = Buffer.from(`${prefix}${CANARY}\n`).toString("base64");
    writeFileSync(join(work, "innocent.txt"), `${prefix}innocent\n`);
    await gitOk(["add", "innocent.txt"], work, gate.guestEnv);
    await gitOk(["commit", "--quiet", "-m", `build info: ${encoded}`], work, gate.guestEnv);
    await assertRefused(["origin", "HEAD:refs/heads/agent/work"], /commit [0-9a-f]{12} \(its message or author\) contains the value of secret CANARY \(base64-encoded\)/);
    await resetWork();
  }
});

test("the upstream token itself is refused too, and a secret in a ref name", async () => {
  await commitFile("ci.env", `TOKEN=${TOKEN}\n`);
  await assertRefused(["origin", "HEAD:refs/heads/agent/work"], /file ci\.env \(blob [0-9a-f]{12}\) contains the value of the token of remote origin/);
  await resetWork();
  await commitFile("plain.txt", "plain\n");
  await assertRefused(["origin", `HEAD:refs/heads/agent/${CANARY}`], /a ref name contains the value of secret CANARY/);
  await resetWork();
});

/** An AWS access key id gitleaks detects, built at run time so this file holds none. */
function awsKeyId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return ["AK", "IA"].join("") + Array.from(randomBytes(16), (byte) => alphabet[byte % 32]).join("");
}

test("a credential gitleaks detects is refused", async () => {
  if (GITLEAKS === null) return void console.log("skipped: gitleaks case: no gitleaks binary");
  const key = awsKeyId();
  await commitFile("deploy.ini", `[default]\naws_access_key_id = ${key}\n`);
  const stderr = await assertRefused(["origin", "HEAD:refs/heads/agent/work"], /gitleaks: aws-access-token matched in deploy\.ini \(blob [0-9a-f]{12}\), line 2/);
  assert.not.match(stderr, key);
  await resetWork();
  // A `gitleaks:allow` comment from the agent does not silence it.
  await commitFile("deploy.ini", `[default]\naws_access_key_id = ${key} # gitleaks:allow\n`);
  await assertRefused(["origin", "HEAD:refs/heads/agent/work"], /gitleaks: aws-access-token matched in deploy\.ini/);
  await resetWork();
});

test("a credential under a name gitleaks' own allowlist or archive rules would pass is refused all the same", async () => {
  if (GITLEAKS === null) return void console.log("skipped: gitleaks allowlisted-name case: no gitleaks binary");
  // gitleaks skips these names when it scans a tree (lock files, go.sum,
  // images, documents, node_modules/, archives by extension): the agent
  // chooses the name, so the gate must not let gitleaks see it.
  for (const name of ["package-lock.json", "node_modules/x/cfg.ini", "yarn.lock", "go.sum", "logo.png", "docs/report.pdf", "backup.tar.gz"]) {
    const key = awsKeyId();
    await commitFile(name, `[default]\naws_access_key_id = ${key}\n`);
    const where = name.replaceAll(".", "\\.").replaceAll("/", "\\/");
    const stderr = await assertRefused(["origin", "HEAD:refs/heads/agent/work"], new RegExp(`gitleaks: aws-access-token matched in ${where} \\(blob [0-9a-f]{12}\\), line 2`));
    assert.not.match(stderr, key);
    await resetWork();
  }
});

test("a key after a PDF, zip or gzip signature is found too (gitleaks skips such files as binary by their first bytes)", async () => {
  for (const [kind, signature] of [["pdf", "%PDF-1.4\n"], ["zip", "PK\u0003\u0004\n"], ["gzip", "\u001f\u008b\u0008\n"]] as const) {
    const key = awsKeyId();
    await commitFile(`notes-${kind}.txt`, `${signature}[default]\naws_access_key_id = ${key}\n`);
    const stderr = await assertRefused(["origin", "HEAD:refs/heads/agent/work"], new RegExp(`gitleaks: aws-access-token matched in notes-${kind}\\.txt \\(blob [0-9a-f]{12}\\), line 3`));
    assert.not.match(stderr, key);
    await resetWork();
  }
});

/**
 * A key in text whose bytes put a file-type signature of gitleaks' detector
 * (h2non/filetype, src/gitgate/gitleaks.ts) where the detector looks once
 * the gate's one-newline shift is applied: DICOM's "DICM" at 128, tar's
 * "ustar" at 257, ISO 9660's "CD001" at 32769, EOT's "LP" at 34 (with 02 00
 * 01 at 8). gitleaks skips such a file whole, as binary (issue 15, point 4).
 */
function aligned(signature: string, at: number, key: string, before = ""): string {
  const shifted = at - 1; // the gate used to write each object after one newline
  return `${before}${"x".repeat(shifted - before.length)}${signature}\n[default]\naws_access_key_id = ${key}\n`;
}

test("a key in a file or commit that puts a file-type signature at a later fixed offset is found (gitleaks skips such objects as binary)", async () => {
  if (GITLEAKS === null) return void console.log("skipped: gitleaks file-type case: no gitleaks binary");
  const files: Record<string, string> = {
    "dicom.txt": aligned("DICM", 128, awsKeyId()),
    "tar.txt": aligned("ustar", 257, awsKeyId()),
    "iso.txt": aligned("CD001", 32769, awsKeyId()),
    "eot.txt": aligned("LP", 34, awsKeyId(), "xxxxxxx\u0002\u0000\u0001"),
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(work, name), content);
  await gitOk(["add", ...Object.keys(files)], work, gate.guestEnv);
  await gitOk(["commit", "--quiet", "-m", "notes"], work, gate.guestEnv);
  // A commit whose author name puts "DICM" at byte 128 of the object (127 before the shift), its message holding a key.
  const tree = await gitOk(["rev-parse", "HEAD^{tree}"], work, gate.guestEnv);
  const parent = await gitOk(["rev-parse", "HEAD"], work, gate.guestEnv);
  const head = `tree ${tree}\nparent ${parent}\nauthor `;
  const author = `${"A".repeat(127 - head.length)}DICM`;
  const commit = `${head}${author} <a@example.invalid> 1700000000 +0000\ncommitter Test <test@example.invalid> 1700000000 +0000\n\nrotate\n\naws_access_key_id = ${awsKeyId()}\n`;
  assert.is(commit.indexOf("DICM"), 127);
  const oid = (await git(["hash-object", "-t", "commit", "-w", "--stdin"], work, gate.guestEnv, commit)).stdout.trim();
  await gitOk(["update-ref", "HEAD", oid], work, gate.guestEnv);
  const stderr = await assertRefused(["origin", "HEAD:refs/heads/agent/work"], /gitleaks: aws-access-token matched in/);
  for (const name of Object.keys(files)) assert.match(stderr, new RegExp(`gitleaks: aws-access-token matched in ${name.replace(".", "\\.")} \\(blob [0-9a-f]{12}\\), line 3`), name);
  assert.match(stderr, new RegExp(`gitleaks: aws-access-token matched in commit ${oid.slice(0, 12)}`));
  await resetWork();
});

test("the upstream refusing a push (a protected branch): the agent sees the upstream's own message", async () => {
  await commitFile("protected.txt", "x\n");
  const run = await push(["origin", "HEAD:refs/heads/agent/protected"]);
  assert.is.not(run.code, 0);
  assert.match(run.stderr, /remote: upstream: agent\/protected is a protected branch/);
  assert.match(run.stderr, /remote: git gate: the upstream refused the push/);
  assert.is(await upstreamRef("refs/heads/agent/protected"), null);
  // The mirror did not take the refused update either.
  assert.match(gate.readLog(), /push origin refs\/heads\/agent\/protected: upstream refused/);
  await resetWork();
});

test("the token and the secret are in no file of the stage or run dir, no guest variable and no log line", async () => {
  const files = [...filesUnder(gate.stageDir), ...filesUnder(gate.runDir)];
  assert.ok(files.some((file) => file.endsWith(join("git", "origin.git", "config"))), "the mirror is under the stage dir");
  for (const file of files) {
    const content = readFileSync(file);
    for (const [name, value] of [["token", TOKEN], ["canary", CANARY]] as const) {
      assert.not.ok(content.includes(value), `the ${name} is in ${file}`);
      assert.not.ok(content.includes(Buffer.from(value).toString("base64").slice(0, 16)), `the ${name} (base64) is in ${file}`);
    }
  }
  for (const value of Object.values(gate.guestGitEnv)) assert.not.ok(value.includes(TOKEN));
  const log = gate.readLog();
  assert.match(log, /refused: .*secret CANARY/);
  assert.ok(log.split("\n").length > 10, log);
});

test.run();
