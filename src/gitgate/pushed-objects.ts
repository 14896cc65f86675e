// What a push brings that the upstream does not have yet: every object
// reachable from the new ref values and from none of the mirror's refs
// (which are the upstream's, as of the refresh that began the push), read
// from the push's quarantine. node: imports only.
import { runGit, type Git } from "./run-git.js";

export interface RefUpdate {
  old: string;
  new: string;
  ref: string;
}

export interface PushedObject {
  oid: string;
  type: string;
  /** The path rev-list names a blob or tree by (empty for commits and tags). */
  path: string;
  content: Buffer;
}

export function isZeroOid(oid: string): boolean {
  return /^0+$/.test(oid);
}

/** The `old new ref` lines git gives a pre-receive hook. */
export function parseUpdates(text: string): RefUpdate[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [old, next, ref] = line.split(" ");
      if (!old || !next || !ref) throw new Error(`unexpected pre-receive line: ${line}`);
      return { old, new: next, ref };
    });
}

export async function pushedObjects(updates: readonly RefUpdate[], cwd: string, git: Git): Promise<PushedObject[]> {
  const tips = updates.filter((u) => !isZeroOid(u.new)).map((u) => u.new);
  if (tips.length === 0) return [];
  const list = await runGit(git, ["rev-list", "--objects", "--stdin", "--not", "--all"], { cwd, input: `${tips.join("\n")}\n` });
  if (list.code !== 0) throw new Error(`git rev-list failed: ${list.stderr.trim()}`);
  const paths = new Map<string, string>();
  for (const line of list.stdout.toString().split("\n")) {
    if (!line) continue;
    const space = line.indexOf(" ");
    paths.set(space < 0 ? line : line.slice(0, space), space < 0 ? "" : line.slice(space + 1));
  }
  if (paths.size === 0) return [];
  const batch = await runGit(git, ["cat-file", "--batch"], { cwd, input: `${[...paths.keys()].join("\n")}\n` });
  if (batch.code !== 0) throw new Error(`git cat-file failed: ${batch.stderr.trim()}`);
  const objects: PushedObject[] = [];
  const out = batch.stdout;
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const [oid, type, size] = out.subarray(at, eol).toString().split(" ");
    if (!oid || !type || size === undefined || type === "missing") throw new Error(`git cat-file could not read ${oid ?? "an object"}`);
    const start = eol + 1;
    const end = start + Number(size);
    objects.push({ oid, type, path: paths.get(oid) ?? "", content: out.subarray(start, end) });
    at = end + 1;
  }
  if (objects.length !== paths.size) throw new Error(`read ${objects.length} of ${paths.size} pushed objects`);
  return objects;
}
