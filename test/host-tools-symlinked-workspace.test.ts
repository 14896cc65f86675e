// A PATH entry that reaches a guest-writable workspace through a symlink is
// inside that workspace all the same (issue 20): bottle's search path drops
// it, whichever side the link is on (the entry goes through a link to the
// workspace, or the workspace is named by a link and the entry by its real
// path). End to end: `bottle build` with such a PATH runs none of the
// programs the agent planted there.
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir } from "./helpers/fakes.js";
import { describe, makeProject, runBottle } from "./helpers/lifecycle.js";
import { searchPath } from "./helpers/search-path.js";
import { tempDir } from "./helpers/tmp.js";

/** A workspace with node_modules/.bin, and a link to the workspace from outside it. */
function linkedWorkspace(): { workspace: string; bin: string; link: string } {
  const workspace = tempDir("bws-");
  const bin = join(workspace, "node_modules", ".bin");
  mkdirSync(bin, { recursive: true });
  const link = join(tempDir("blink-"), "checkout");
  symlinkSync(workspace, link);
  return { workspace, bin, link };
}

test("an entry that goes through a symlink into the workspace is dropped, and named", () => {
  const { workspace, link } = linkedWorkspace();
  const entry = join(link, "node_modules", ".bin");
  const { path, warnings } = searchPath([workspace], `${entry}:/usr/bin:/bin`);
  assert.is(path, "/usr/bin:/bin");
  assert.match(warnings, `not looking for programs in ${entry} (on PATH)`);
});

test("a symlink to the workspace itself on PATH is dropped", () => {
  const { workspace, link } = linkedWorkspace();
  assert.is(searchPath([workspace], `/usr/bin:${link}`).path, "/usr/bin");
});

test("a workspace named by a symlink: the real directory on PATH is dropped", () => {
  const { bin, link } = linkedWorkspace();
  assert.is(searchPath([link], `${bin}:/bin`).path, "/bin");
});

test("a link chain (link -> link -> workspace) is followed to its end", () => {
  const { workspace, link } = linkedWorkspace();
  const second = join(tempDir("blink-"), "again");
  symlinkSync(link, second);
  assert.is(searchPath([workspace], `${join(second, "node_modules", ".bin")}:/bin`).path, "/bin");
});

test("entries outside every workspace are kept, in order, links included", () => {
  const { workspace } = linkedWorkspace();
  const tools = tempDir("btools-");
  const toolsLink = join(tempDir("blink-"), "tools");
  symlinkSync(tools, toolsLink);
  assert.is(searchPath([workspace], `${toolsLink}:/usr/bin:${tools}`).path, `${toolsLink}:/usr/bin:${tools}`);
});

test("bottle build with the workspace's .bin on PATH through a symlink runs none of the planted programs", async () => {
  const project = makeProject("plant-bin-link");
  const bin = join(project.dir, "ws", "node_modules", ".bin");
  const markers = tempDir("bpb-");
  mkdirSync(bin, { recursive: true });
  for (const tool of ["bwrap", "smolvm", "gvproxy", "pipelock", "gitleaks"]) {
    writeFileSync(join(bin, tool), `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(join(markers, "ran"))}\nexit 0\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  const link = join(tempDir("blink-"), "project");
  symlinkSync(project.dir, link);
  const linkedBin = join(link, "ws", "node_modules", ".bin");
  const build = await runBottle(project, ["build"], { path: `${linkedBin}:${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}` });
  assert.is(build.code, 0, describe(build));
  assert.is(existsSync(join(markers, "ran")) ? readFileSync(join(markers, "ran"), "utf8") : "", "", "a planted program ran");
  assert.match(build.stderr, `not looking for programs in ${linkedBin} (on PATH)`);
});

test.run();
