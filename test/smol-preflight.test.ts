import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  GVFORWARDER_FILE_HINT,
  INSTALL_HINTS,
  checkPreflight,
  formatPreflight,
  type PreflightResult,
} from "../src/backends/smolmachines/preflight.js";

const FORMAT = { toolsDir: "/opt/bottle/.tools/bin" };

/** A fake file system: the set of executable paths. */
function executables(...paths: string[]): (path: string) => boolean {
  const set = new Set(paths);
  return (path) => set.has(path);
}

const ALL_LINUX = executables(
  "/usr/bin/smolvm",
  "/usr/bin/gvproxy",
  "/usr/bin/pipelock",
  "/usr/bin/bwrap",
);

test("everything on PATH: ok, with where each binary was found", () => {
  const result = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "image",
    isExecutable: ALL_LINUX,
  });
  assert.equal(result, {
    ok: true,
    missing: [],
    found: {
      smolvm: "/usr/bin/smolvm",
      gvproxy: "/usr/bin/gvproxy",
      pipelock: "/usr/bin/pipelock",
      bwrap: "/usr/bin/bwrap",
    },
  });
  assert.is(formatPreflight(result, FORMAT), "");
});

test("the first PATH entry wins; empty and relative entries are skipped", () => {
  const result = checkPreflight({
    platform: "linux",
    pathEnv: ":bin:/opt/a:/opt/b",
    gvforwarder: "image",
    isExecutable: executables(
      "bin/smolvm",
      "/opt/b/smolvm",
      "/opt/a/gvproxy",
      "/opt/b/gvproxy",
      "/opt/b/pipelock",
      "/opt/b/bwrap",
    ),
  });
  assert.ok(result.ok);
  assert.is(result.found.smolvm, "/opt/b/smolvm");
  assert.is(result.found.gvproxy, "/opt/a/gvproxy");
});

test("one missing binary: singular header and its install line", () => {
  const result = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "image",
    isExecutable: executables("/usr/bin/smolvm", "/usr/bin/gvproxy", "/usr/bin/bwrap"),
  });
  assert.is(result.ok, false);
  assert.equal(result.missing, [{ name: "pipelock", hint: INSTALL_HINTS.pipelock, kind: "binary" }]);
  assert.is(
    formatPreflight(result, FORMAT),
    [
      "bottle launch needs this program, not found on PATH or in /opt/bottle/.tools/bin:",
      `  - pipelock  install: ${INSTALL_HINTS.pipelock}`,
    ].join("\n"),
  );
  // `go install …@latest` fails where the module proxy refuses pipelock: the hint names the pinned install and the mirror.
  assert.not.match(INSTALL_HINTS.pipelock, "@latest");
  assert.match(INSTALL_HINTS.pipelock, "npm run tools");
  assert.match(INSTALL_HINTS.pipelock, "GOPROXY");
});

test("every binary missing on Linux: plural header and one line per binary, bwrap included", () => {
  const result = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "image",
    isExecutable: executables(),
  });
  const lines = formatPreflight(result, FORMAT).split("\n");
  assert.equal(lines, [
    "bottle launch needs these programs, not found on PATH or in /opt/bottle/.tools/bin:",
    `  - smolvm  install: ${INSTALL_HINTS.smolvm}`,
    `  - gvproxy  install: ${INSTALL_HINTS.gvproxy}`,
    `  - pipelock  install: ${INSTALL_HINTS.pipelock}`,
    `  - bwrap  install: ${INSTALL_HINTS.bwrap}`,
  ]);
  assert.match(INSTALL_HINTS.smolvm, "https://smolmachines.com/install.sh");
  assert.match(INSTALL_HINTS.smolvm, "brew install");
  assert.match(INSTALL_HINTS.gvproxy, "go install github.com/containers/gvisor-tap-vsock/cmd/gvproxy@v0.8.9");
  assert.match(INSTALL_HINTS.gvproxy, "npm run tools");
  assert.match(INSTALL_HINTS.bwrap, "apt-get install bubblewrap");
  assert.match(INSTALL_HINTS.bwrap, "dnf install bubblewrap");
});

test("on darwin bwrap is not required", () => {
  const result = checkPreflight({
    platform: "darwin",
    pathEnv: "/usr/bin",
    gvforwarder: "image",
    isExecutable: executables("/usr/bin/smolvm", "/usr/bin/gvproxy", "/usr/bin/pipelock"),
  });
  assert.ok(result.ok);
  assert.not.ok("bwrap" in result.found);
  const none = checkPreflight({ platform: "darwin", pathEnv: "/usr/bin", gvforwarder: "image", isExecutable: executables() });
  assert.equal(
    none.missing.map((m) => m.name),
    ["smolvm", "gvproxy", "pipelock"],
  );
});

test("a missing gvforwarder file gets its own line with the fix", () => {
  const result = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "/home/me/gvforwarder",
    isExecutable: executables("/usr/bin/smolvm", "/usr/bin/gvproxy", "/usr/bin/bwrap"),
    exists: () => false,
  });
  assert.equal(result.missing[1], {
    name: "gvforwarder",
    hint: GVFORWARDER_FILE_HINT,
    kind: "file",
    path: "/home/me/gvforwarder",
  });
  assert.equal(formatPreflight(result, FORMAT).split("\n"), [
    "bottle launch needs this program, not found on PATH or in /opt/bottle/.tools/bin:",
    `  - pipelock  install: ${INSTALL_HINTS.pipelock}`,
    `  - gvforwarder file /home/me/gvforwarder not found  fix: ${GVFORWARDER_FILE_HINT}`,
  ]);
  assert.match(GVFORWARDER_FILE_HINT, "cmd/vm");
  assert.match(GVFORWARDER_FILE_HINT, '"image"');
});

test("only the gvforwarder file missing: a header about the file, no binary lines", () => {
  const result = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "/home/me/gvforwarder",
    isExecutable: ALL_LINUX,
    exists: () => false,
  });
  const text = formatPreflight(result, FORMAT);
  assert.is(result.ok, false);
  assert.not.match(text, "install:");
  assert.equal(text.split("\n"), [
    "bottle launch needs this file:",
    `  - gvforwarder file /home/me/gvforwarder not found  fix: ${GVFORWARDER_FILE_HINT}`,
  ]);
});

test('gvforwarder "image" is not looked for on the host; a present file is reported found', () => {
  let looked = false;
  const fromImage = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "image",
    isExecutable: ALL_LINUX,
    exists: () => ((looked = true), false),
  });
  assert.ok(fromImage.ok);
  assert.is(looked, false);
  const fromHost = checkPreflight({
    platform: "linux",
    pathEnv: "/usr/bin",
    gvforwarder: "/srv/gvforwarder",
    isExecutable: ALL_LINUX,
    exists: (p) => p === "/srv/gvforwarder",
  });
  assert.is(fromHost.found.gvforwarder, "/srv/gvforwarder");
});

test("the default checks want an executable regular file on PATH", () => {
  const root = mkdtempSync(join(tmpdir(), "smol-preflight-"));
  const first = join(root, "first");
  const second = join(root, "second");
  try {
    mkdirSync(join(first, "smolvm"), { recursive: true }); // a directory is not a binary
    mkdirSync(second);
    for (const name of ["smolvm", "gvproxy", "pipelock"]) {
      writeFileSync(join(second, name), "#!/bin/sh\n");
      chmodSync(join(second, name), 0o755);
    }
    writeFileSync(join(second, "bwrap"), "no execute bit\n");
    chmodSync(join(second, "bwrap"), 0o644);
    const result: PreflightResult = checkPreflight({
      platform: "linux",
      pathEnv: `${first}:${second}`,
      gvforwarder: join(second, "gvproxy"),
    });
    assert.is(result.found.smolvm, join(second, "smolvm"));
    assert.equal(Object.keys(result.found).sort(), ["gvforwarder", "gvproxy", "pipelock", "smolvm"]);
    assert.equal(
      result.missing.map((m) => m.name),
      ["bwrap"],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
