// A remote's bare mirror in the stage dir (<dir>/<name>.git): created with
// the gate's pre-receive hook, refreshed from the upstream before every
// fetch and push. Its config holds no URL and no credential.
import { chmodSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { upstreamGitEnv } from "./git-env.js";
import type { GateRemote } from "./options.js";
import { runGit, type Git } from "./run-git.js";
import { shellQuote } from "../lib/shell-quote.js";

export function mirrorDir(dir: string, name: string): string {
  return join(dir, `${name}.git`);
}

const MIRROR_CONFIG: readonly (readonly [string, string])[] = [
  ["http.uploadpack", "true"],
  ["http.receivepack", "true"],
  // Smart HTTP only: no dumb-protocol file serving.
  ["http.getanyfile", "false"],
  ["receive.fsckObjects", "true"],
  ["core.logAllRefUpdates", "false"],
  ["gc.auto", "0"],
];

/** Creates the mirror when missing; (re)writes its config and hook either way. */
export async function prepareMirror(path: string, hook: { node: string; script: string }, git: Git): Promise<void> {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat) {
    // lstat: a symlink is not a directory here.
    if (!stat.isDirectory()) throw new Error(`${path} exists and is not a directory; remove it`);
  } else {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    // No template: no sample hooks, no description file.
    const init = await runGit(git, ["init", "--quiet", "--bare", "--template=", path], { cwd: path });
    if (init.code !== 0) throw new Error(`git init --bare ${path} failed: ${init.stderr.trim()}`);
  }
  chmodSync(path, 0o700);
  for (const [key, value] of MIRROR_CONFIG) {
    const set = await runGit(git, ["config", key, value], { cwd: path });
    if (set.code !== 0) throw new Error(`git config ${key} in ${path} failed: ${set.stderr.trim()}`);
  }
  const hooks = join(path, "hooks");
  mkdirSync(hooks, { recursive: true, mode: 0o700 });
  writeFileSync(join(hooks, "pre-receive"), `#!/bin/sh\nexec ${shellQuote(hook.node)} ${shellQuote(hook.script)}\n`, { mode: 0o700 });
  chmodSync(join(hooks, "pre-receive"), 0o700);
}

export type Refresh = { ok: true } | { ok: false; message: string };

/**
 * Brings the mirror's branches and tags to the upstream's (pruning what the
 * upstream deleted); the first time, points its HEAD where the upstream's is.
 */
export async function refreshMirror(path: string, remote: GateRemote, token: string, git: Git, firstTime: boolean): Promise<Refresh> {
  const upstream = { ...git, env: upstreamGitEnv(git.env, remote, token) };
  const fetch = await runGit(
    upstream,
    ["fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", remote.url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
    { cwd: path },
  );
  if (fetch.code !== 0) return { ok: false, message: fetch.stderr.trim() || `git fetch exited with code ${fetch.code}` };
  if (firstTime) {
    const head = await runGit(upstream, ["ls-remote", "--symref", remote.url, "HEAD"], { cwd: path });
    const target = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(head.stdout.toString())?.[1];
    if (head.code === 0 && target) await runGit(git, ["symbolic-ref", "HEAD", target], { cwd: path });
  }
  return { ok: true };
}
