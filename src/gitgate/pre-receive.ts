// The mirror's pre-receive hook (run by receive-pack, under the gate):
// checks the push and, only if every check passes, pushes the same ref
// updates to the upstream with the credential, from the quarantine, before
// the mirror accepts them. Whatever it prints, the agent sees as
// `remote: ...`; a refusal exits 1, and receive-pack then discards the
// pushed objects. A refused push never contacts the upstream.
// Entry script: node: imports only (and siblings that obey the same rule).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { upstreamGitEnv } from "./git-env.js";
import { gateLog } from "./log.js";
import { GATE_REMOTE_ENV, readGateOptions, secretsFromEnv } from "./options.js";
import { checkPush } from "./push-check.js";
import { isZeroOid, parseUpdates, type RefUpdate } from "./pushed-objects.js";
import { runGit } from "./run-git.js";
import { needlesFor, redact } from "./secret-needles.js";
import { errorMessage } from "../lib/errors.js";

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function refspec(update: RefUpdate): string {
  return isZeroOid(update.new) ? `:${update.ref}` : `${update.new}:${update.ref}`;
}

/** Forces only what the checks allowed, and only if the upstream still holds what the mirror saw. */
function leases(updates: readonly RefUpdate[]): string[] {
  return updates.map((u) => `--force-with-lease=${u.ref}:${isZeroOid(u.old) ? "" : u.old}`);
}

async function main(): Promise<number> {
  const options = readGateOptions(process.env);
  const remote = options.remotes.find((r) => r.name === process.env[GATE_REMOTE_ENV]);
  if (!remote) {
    say("git gate: refused: this push reached the mirror without the gate (no remote named)");
    return 1;
  }
  const needles = needlesFor(secretsFromEnv(process.env, options.remotes));
  let log;
  try {
    log = gateLog(options.log, needles);
  } catch {
    // Fail closed. The agent is not told the host path.
    say(`git gate: push to ${remote.name} refused, nothing was sent upstream:`);
    say("  - the gate's log is not a plain file it can append to safely; every push is refused until that is fixed on the host");
    return 1;
  }
  const updates = parseUpdates(await readStdin());
  const refs = updates.map((u) => u.ref).join(", ");
  const cwd = process.cwd();
  const scratch = join(cwd, "gate-scratch");
  mkdirSync(scratch, { recursive: true, mode: 0o700 });

  let refusals: string[];
  try {
    refusals = await checkPush({ updates, remote, needles, gitleaks: options.gitleaks, cwd, git: { program: options.git, env: process.env }, scratch });
  } catch (error) {
    // The check itself failed: fail closed.
    refusals = [`the push could not be checked: ${redact(errorMessage(error), needles)}`];
  }
  if (refusals.length) {
    say(`git gate: push to ${remote.name} refused, nothing was sent upstream:`);
    for (const refusal of refusals) say(`  - ${refusal}`);
    log(`push ${remote.name} ${refs}: refused: ${refusals.join("; ")}`);
    return 1;
  }

  const token = process.env[remote.tokenEnv];
  if (!token) {
    say(`git gate: push to ${remote.name} refused: the gate has no token for it`);
    log(`push ${remote.name} ${refs}: refused: no token in ${remote.tokenEnv}`);
    return 1;
  }
  // Only this remote's credential, and the quarantine's object directories.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("BOTTLE_GIT_GATE") && !/^GIT_CONFIG_/.test(key)) env[key] = value;
  }
  say(`git gate: checks passed; pushing to ${remote.url}`);
  const upstream = { program: options.git, env: upstreamGitEnv(env, remote, token) };
  const push = await runGit(upstream, ["push", "--porcelain", "--no-verify", ...(updates.length > 1 ? ["--atomic"] : []), ...leases(updates), remote.url, ...updates.map(refspec)], {
    cwd,
    onStderr: (chunk) => process.stderr.write(redact(chunk.toString(), needles)),
  });
  const answer = redact(push.stdout.toString().trim(), needles);
  if (answer) say(answer);
  if (push.code !== 0) {
    say(`git gate: the upstream refused the push (git push exited with code ${push.code}); the mirror was not changed`);
    log(`push ${remote.name} ${refs}: upstream refused: ${redact(push.stderr.trim() || answer, needles)}`);
    return 1;
  }
  log(`push ${remote.name} ${refs}: accepted and pushed to ${remote.url}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`git gate: refused: internal error in the push check: ${errorMessage(error)}`);
    process.exit(1);
  },
);
