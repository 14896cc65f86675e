// The pin covers the module's go.mod as well as its source. `go install
// pkg@version` takes the module's requirements (and its go, toolchain and
// godebug lines) from the .mod file the proxy serves, not from the zip, and
// GONOSUMDB skips the checksum database for it: a mirror serving the right
// zip beside a doctored .mod must be refused before anything is built. Runs
// the real `go` against a copy of the local mirror, offline (GOPROXY ends in
// off, a fresh module cache).
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { packageRoot } from "../src/lib/package-root.js";
import { skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";
import { proxyVersionsDir, REFUSABLE_PIN, toolsCheckout } from "./helpers/tools-script.js";

const refusable = REFUSABLE_PIN;
const mirror = process.env.BOTTLE_GO_MIRROR ?? join(packageRoot(), "..", "shared", "goproxy");
const go = ["/usr/local/go/bin/go", ...(process.env.PATH ?? "").split(":").map((dir) => join(dir, "go"))].find((path) => existsSync(path));
const versions = refusable ? proxyVersionsDir(refusable.module) : "";

test("a mirror serving the pinned zip beside a doctored go.mod is refused before go install runs", () => {
  const base = tempDir("btools-gomod-");
  const scripts = toolsCheckout(base);
  const copy = join(base, "mirror");
  cpSync(join(mirror, versions), join(copy, versions), { recursive: true });
  // The doctored go.mod: an old dependency and a weakened TLS default.
  const mod = join(copy, versions, `${refusable!.version}.mod`);
  writeFileSync(mod, readFileSync(mod, "utf8").replace(/golang\.org\/x\/crypto v[^\s]+/, "golang.org/x/crypto v0.1.0"));
  appendFileSync(mod, "\ngodebug tlsrsakex=1\n");

  const result = spawnSync(process.execPath, [join(scripts, "tools.mjs")], {
    cwd: dirname(scripts),
    encoding: "utf8",
    env: {
      PATH: `${dirname(go!)}:/usr/bin:/bin`,
      HOME: base,
      GOMODCACHE: join(base, "modcache"),
      GOCACHE: join(base, "gocache"),
      GOFLAGS: "-modcacherw",
      GOPROXY: "off",
      GOTOOLCHAIN: "local",
      BOTTLE_GO_MIRROR: copy,
    },
  });
  const output = `${result.stdout}${result.stderr}`;
  const pipelock = output.split("\n").filter((line) => line.startsWith("pipelock ")).join("\n");
  assert.not.match(pipelock, "go install exited", `go install ran on the doctored go.mod:\n${pipelock}`);
  assert.match(output, /pipelock [^\n]*: FAILED after [^\n]*: hash mismatch/, output);
  assert.match(output, "go.mod", output);
});

if (refusable === undefined) skipSuite("tools-pin-go-mod", "tool-pins.json has no refusable pin");
else if (go === undefined) skipSuite("tools-pin-go-mod", "needs go (https://go.dev/dl/)");
else if (!existsSync(join(mirror, versions, `${refusable.version}.zip`))) skipSuite("tools-pin-go-mod", `needs a module mirror serving ${refusable.module}@${refusable.version} (BOTTLE_GO_MIRROR, or ../shared/goproxy beside the checkout)`);
else test.run();
