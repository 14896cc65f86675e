// The path rules the confinement checks stand on, written out (issue 20:
// mutants `npm run mutate` found unkilled in host-checks.ts): what is inside
// a directory, a path resolved through links as far as it exists, which
// workspaces the guest can write, a workspace that is not a directory, and a
// gvforwarder binary the guest could swap (in the workspace, or a link there).
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { confinementProblems, hostProblems, writableWorkspaces } from "../src/config/host-checks.js";
import { isInside, resolvedPath } from "../src/lib/path-checks.js";
import type { BottleConfig } from "../src/config/resolved.js";
import { validateConfig } from "../src/config/validate.js";
import { tempDir } from "./helpers/tmp.js";

function config(workspace: BottleConfig["workspace"], gvforwarder = "image"): BottleConfig {
  const result = validateConfig({ name: "demo", image: "alpine:3", agent: { command: ["sh"] } }, "/");
  if (!result.ok) throw new Error("base config is invalid");
  return { ...result.config, workspace, guest: { ...result.config.guest, gvforwarder } };
}

test("isInside: the dir itself and what is under it; not its parent, a sibling sharing its prefix, or `..` names", () => {
  const cases: [string, string, boolean][] = [
    ["/w", "/w", true],
    ["/w", "/w/a", true],
    ["/w", "/w/a/b", true],
    ["/w", "/w/..a", true],
    ["/w/a", "/w", false],
    ["/w", "/", false],
    ["/w", "/wx", false],
    ["/w", "/w-other/a", false],
    ["/w", "/x/w", false],
    ["/w/a", "/w/b", false],
  ];
  for (const [dir, path, inside] of cases) assert.is(isInside(dir, path), inside, `isInside(${dir}, ${path})`);
});

test("resolvedPath follows links as far as the path exists, and keeps the rest in order", () => {
  const real = realpathSync(tempDir("bhc-"));
  const link = join(realpathSync(tempDir("bhc-")), "link");
  symlinkSync(real, link);
  assert.is(resolvedPath(join(link, "x", "y", "z")), join(real, "x", "y", "z"));
  mkdirSync(join(real, "x"));
  assert.is(resolvedPath(join(link, "x", "y", "z")), join(real, "x", "y", "z"));
  assert.is(resolvedPath(link), real);
});

test("writableWorkspaces: the real path of a writable workspace; none for a read-only one or none at all", () => {
  const real = realpathSync(tempDir("bhc-"));
  const link = join(realpathSync(tempDir("bhc-")), "ws");
  symlinkSync(real, link);
  assert.equal(writableWorkspaces(config({ host: link, guest: "/workspace", readOnly: false })), [real]);
  assert.equal(writableWorkspaces(config({ host: link, guest: "/workspace", readOnly: true })), []);
  assert.equal(writableWorkspaces(config(null)), []);
});

test("hostProblems: a workspace that is missing or not a directory is named; an existing one is fine", () => {
  const base = tempDir("bhc-");
  writeFileSync(join(base, "file"), "");
  for (const host of [join(base, "missing"), join(base, "file")]) {
    const problems = hostProblems(config({ host, guest: "/workspace", readOnly: false }));
    assert.equal(problems.map((p) => p.path), ["workspace.host"], host);
    assert.match(problems[0]!.message, `${host} is not an existing directory`);
  }
  assert.equal(hostProblems(config({ host: base, guest: "/workspace", readOnly: false })), []);
  assert.equal(hostProblems(config(null)), []);
});

function forwarderProblems(workspace: string, gvforwarder: string): string[] {
  const problems = confinementProblems(config({ host: workspace, guest: "/workspace", readOnly: false }, gvforwarder), { configFiles: [], stageDir: "/elsewhere/stage", runDir: "/elsewhere/run" });
  return problems.map((p) => p.path);
}

test("gvforwarder: a binary in the writable workspace, or a link there to one outside, is refused; one outside, or the image's, is fine", () => {
  const workspace = realpathSync(tempDir("bhc-ws-"));
  const outside = join(realpathSync(tempDir("bhc-out-")), "gvforwarder");
  writeFileSync(join(workspace, "gvforwarder"), "");
  writeFileSync(outside, "");
  symlinkSync(outside, join(workspace, "link-to-outside"));
  assert.equal(forwarderProblems(workspace, join(workspace, "gvforwarder")), ["guest.gvforwarder"]);
  assert.equal(forwarderProblems(workspace, join(workspace, "link-to-outside")), ["guest.gvforwarder"], "the link is the guest's to repoint");
  assert.equal(forwarderProblems(workspace, outside), []);
  assert.equal(forwarderProblems(workspace, "image"), []);
  const before = process.cwd();
  process.chdir(workspace);
  try {
    assert.equal(forwarderProblems(workspace, "image"), [], "\"image\" names no file, even run from inside the workspace");
  } finally {
    process.chdir(before);
  }
  const readOnly = confinementProblems(config({ host: workspace, guest: "/workspace", readOnly: true }, join(workspace, "gvforwarder")), { configFiles: [], stageDir: "/s", runDir: "/r" });
  assert.equal(readOnly, [], "a read-only workspace cannot swap it");
});

test.run();
