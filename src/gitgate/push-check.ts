// The push check: every reason a push must not reach the upstream, as
// lines the agent sees on its terminal (`remote: ...`). Refs first (which
// branch, deletion, history rewrite), then content: the bottle's secret
// values, plain or base64, in any pushed object or ref name, then gitleaks.
// node: imports only, and modules that keep the same rule.
import { refGlobMatches } from "../config/git-ref-glob.js";
import { gitleaksRefusals } from "./gitleaks.js";
import type { GateRemote } from "./options.js";
import { isZeroOid, pushedObjects, type PushedObject, type RefUpdate } from "./pushed-objects.js";
import { runGit, type Git } from "./run-git.js";
import { findNeedle, type Needle } from "./secret-needles.js";

/** The rules that need only the ref names and the remote's config. */
function refPolicyRefusals(updates: readonly RefUpdate[], remote: GateRemote): string[] {
  const refusals: string[] = [];
  for (const update of updates) {
    if (!remote.push.some((pattern) => refGlobMatches(pattern, update.ref))) {
      const allowed = remote.push.length ? `it may push to ${remote.push.join(", ")}` : `remote ${remote.name} is fetch-only`;
      refusals.push(`${update.ref}: pushing there is not allowed (${allowed})`);
    } else if (isZeroOid(update.new) && !remote.allowDelete) {
      refusals.push(`${update.ref}: deleting a branch is not allowed (allowDelete is off for remote ${remote.name})`);
    }
  }
  return refusals;
}

/** Updates that rewrite history: a branch moved to a commit that does not contain its old one, or any existing non-branch ref moved. */
async function nonFastForwardRefusals(updates: readonly RefUpdate[], remote: GateRemote, cwd: string, git: Git): Promise<string[]> {
  if (remote.allowForcePush) return [];
  const refusals: string[] = [];
  for (const update of updates) {
    if (isZeroOid(update.old) || isZeroOid(update.new)) continue;
    let forward = false;
    if (update.ref.startsWith("refs/heads/")) {
      const check = await runGit(git, ["merge-base", "--is-ancestor", update.old, update.new], { cwd });
      if (check.code !== 0 && check.code !== 1) throw new Error(`git merge-base failed: ${check.stderr.trim()}`);
      forward = check.code === 0;
    }
    if (!forward) refusals.push(`${update.ref}: a non-fast-forward update (force push) is not allowed (allowForcePush is off for remote ${remote.name})`);
  }
  return refusals;
}

function describeObject(object: PushedObject): string {
  const short = object.oid.slice(0, 12);
  switch (object.type) {
    case "blob":
      return `file ${object.path || "(unnamed)"} (blob ${short})`;
    case "commit":
      return `commit ${short} (its message or author)`;
    case "tree":
      return `a file name in tree ${short}${object.path ? ` (${object.path}/)` : ""}`;
    default:
      return `${object.type} ${short}`;
  }
}

function leak(where: string, needle: Needle): string {
  return `${where} contains the value of ${needle.secret}${needle.encoding === "base64" ? " (base64-encoded)" : ""}`;
}

function secretRefusals(updates: readonly RefUpdate[], objects: readonly PushedObject[], needles: readonly Needle[]): string[] {
  const refusals: string[] = [];
  for (const update of updates) {
    const needle = findNeedle(update.ref, needles);
    if (needle) refusals.push(leak("a ref name", needle));
  }
  for (const object of objects) {
    const needle = findNeedle(object.content, needles);
    if (needle) refusals.push(leak(describeObject(object), needle));
  }
  return refusals;
}

export interface PushCheckInput {
  updates: readonly RefUpdate[];
  remote: GateRemote;
  needles: readonly Needle[];
  gitleaks: string | null;
  /** The mirror, with the push's quarantine in git's environment. */
  cwd: string;
  git: Git;
  /** A private scratch directory for gitleaks. */
  scratch: string;
}

/** Every reason to refuse the push; empty when it may go upstream. */
export async function checkPush(input: PushCheckInput): Promise<string[]> {
  const { updates, remote, needles, cwd, git } = input;
  const refs = refPolicyRefusals(updates, remote);
  if (refs.length) return refs;
  const history = await nonFastForwardRefusals(updates, remote, cwd, git);
  if (history.length) return history;
  const objects = await pushedObjects(updates, cwd, git);
  const secrets = secretRefusals(updates, objects, needles);
  if (secrets.length) return secrets;
  if (input.gitleaks === null) {
    return ["gitleaks is not installed where the gate looks (PATH, or .tools/bin of bottle's install: `npm run tools`), so no push can be checked for leaked credentials; every push is refused until it is"];
  }
  return gitleaksRefusals(input.gitleaks, updates, objects, input.scratch, needles);
}
