// `npm run tools` finds a local module mirror by itself (BOTTLE_GO_MIRROR,
// else ../shared/goproxy beside the checkout) for a pin the module proxy may
// refuse, and uses it only when it is yours or root's and nobody else can
// write it. Run against a copy of scripts/tools.mjs and a stand-in `go` that
// records the environment each fetch and build ran with.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { requireRoot, skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";
import { proxyVersionsDir, REFUSABLE_PIN, toolsCheckout } from "./helpers/tools-script.js";

interface GoCall {
  op: string;
  module: string;
  GOPROXY: string | null;
  GONOSUMDB: string | null;
}

const refusable = REFUSABLE_PIN;
if (refusable === undefined) throw new Error("tool-pins.json has no refusable pin to test the mirror with");

/** `go` enough for tools.mjs: env, mod download (answers the pinned hashes), install (writes a file). */
const FAKE_GO = `#!${process.execPath}
const { appendFileSync, readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const pins = JSON.parse(readFileSync(process.env.FAKE_GO_PINS, "utf8")).tools;
const [cmd, ...rest] = process.argv.slice(2);
const log = (op, module) => appendFileSync(process.env.FAKE_GO_LOG, JSON.stringify({ op, module, GOPROXY: process.env.GOPROXY ?? null, GONOSUMDB: process.env.GONOSUMDB ?? null }) + "\\n");
if (cmd === "env") {
  const defaults = { GOVERSION: "go1.26.0", GOPROXY: "https://proxy.golang.org,direct", GONOSUMDB: "" };
  console.log(process.env[rest[0]] ?? defaults[rest[0]] ?? "");
} else if (cmd === "mod") {
  const [module, version] = rest.at(-1).split("@");
  log("download", module);
  const pin = pins.find((pin) => pin.module === module);
  console.log(JSON.stringify({ Path: module, Version: version, Sum: pin.h1, GoModSum: pin.goModH1 }));
} else if (cmd === "install") {
  const pin = pins.find((p) => p.pkg === rest.at(-1).split("@")[0]);
  log("install", pin.module);
  writeFileSync(join(process.env.GOBIN, pin.built), "not an ELF binary\\n", { mode: 0o755 });
}
`;

interface Checkout {
  scripts: string;
  mirror: string;
  log: string;
  bin: string;
}

/** A checkout holding only the tools script, a mirror beside it that serves the refusable pin, and the stand-in go. */
function checkoutWithMirror(): Checkout {
  const base = tempDir("btools-");
  const scripts = toolsCheckout(base);
  const mirror = join(base, "shared", "goproxy");
  const versions = join(mirror, proxyVersionsDir(refusable!.module));
  mkdirSync(versions, { recursive: true });
  writeFileSync(join(versions, `${refusable!.version}.info`), JSON.stringify({ Version: refusable!.version }));
  for (const dir of [join(base, "shared"), mirror]) chmodSync(dir, 0o755);
  const bin = join(base, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "go"), FAKE_GO, { mode: 0o755 });
  return { scripts, mirror, log: join(base, "go-calls.jsonl"), bin };
}

/** Runs the tools script from a checkout with nothing installed yet; the calls are this run's alone. */
function runTools(checkout: Checkout, env: Record<string, string> = {}): { output: string; calls: GoCall[] } {
  rmSync(join(dirname(checkout.scripts), ".tools"), { recursive: true, force: true });
  rmSync(checkout.log, { force: true });
  const result = spawnSync(process.execPath, [join(checkout.scripts, "tools.mjs")], {
    cwd: dirname(checkout.scripts),
    encoding: "utf8",
    env: {
      PATH: `${checkout.bin}:/usr/bin:/bin`,
      HOME: process.env.HOME ?? "/root",
      FAKE_GO_PINS: join(checkout.scripts, "tool-pins.json"),
      FAKE_GO_LOG: checkout.log,
      ...env,
    },
  });
  const output = `${result.stdout}${result.stderr}`;
  assert.is(result.status, 0, output);
  let calls: GoCall[] = [];
  try {
    calls = readFileSync(checkout.log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as GoCall);
  } catch {
    // no go call made
  }
  return { output, calls };
}

const callsFor = (calls: GoCall[], module: string) => calls.filter((call) => call.module === module);

test("a mirror beside the checkout that serves the pin is put first on GOPROXY for that module alone, with only its checksum lookup skipped", () => {
  const checkout = checkoutWithMirror();
  const { output, calls } = runTools(checkout);
  const mirrored = callsFor(calls, refusable!.module);
  assert.equal(mirrored.map((call) => call.op), ["download", "install"], output);
  for (const call of mirrored) {
    assert.is(call.GOPROXY, `file://${checkout.mirror},https://proxy.golang.org,direct`);
    assert.is(call.GONOSUMDB, refusable!.module);
  }
  const others = calls.filter((call) => call.module !== refusable!.module);
  assert.ok(others.length > 0, "the other pins were fetched too");
  for (const call of others) assert.equal([call.GOPROXY, call.GONOSUMDB], [null, null], `${call.module} is fetched as Go would by itself`);
  assert.match(output, `from the module mirror ${checkout.mirror}`);
});

test("a mirror that others can write is not used, and the run says why", () => {
  const checkout = checkoutWithMirror();
  chmodSync(checkout.mirror, 0o777);
  const { output, calls } = runTools(checkout);
  for (const call of callsFor(calls, refusable!.module)) assert.equal([call.GOPROXY, call.GONOSUMDB], [null, null], output);
  assert.match(output, `not using the module mirror: ${checkout.mirror} can be written by others (mode 777)`);
});

test("a mirror that belongs to another user is not used", () => {
  const checkout = checkoutWithMirror();
  chownSync(checkout.mirror, 65534, 65534);
  const { output, calls } = runTools(checkout);
  for (const call of callsFor(calls, refusable!.module)) assert.equal([call.GOPROXY, call.GONOSUMDB], [null, null], output);
  assert.match(output, `${checkout.mirror} belongs to uid 65534, neither you nor root`);
});

test("a mirror of yours inside a directory another user owns or can write (who could swap it) is not used", () => {
  for (const [change, why] of [
    [(dir: string) => chownSync(dir, 65534, 65534), "belongs to uid 65534, neither you nor root"],
    [(dir: string) => chmodSync(dir, 0o777), "can be written by others (mode 777)"],
  ] as const) {
    const checkout = checkoutWithMirror();
    const shared = dirname(checkout.mirror);
    change(shared);
    const { output, calls } = runTools(checkout);
    for (const call of callsFor(calls, refusable!.module)) assert.equal([call.GOPROXY, call.GONOSUMDB], [null, null], output);
    assert.match(output, `not using the module mirror: ${shared} ${why}`);
    // Named by the user, it is theirs to vouch for.
    const named = runTools(checkout, { BOTTLE_GO_MIRROR: checkout.mirror });
    for (const call of callsFor(named.calls, refusable!.module)) assert.is(call.GOPROXY, `file://${checkout.mirror},https://proxy.golang.org,direct`, named.output);
  }
});

test("a mirror with anything inside that another user owns or can write, or a symlink out of it, is not used", () => {
  const versionsOf = (mirror: string) => join(mirror, proxyVersionsDir(refusable!.module));
  const planted = (mirror: string) => join(mirror, "golang.org");
  for (const [change, why] of [
    [(mirror: string) => chownSync(versionsOf(mirror), 65534, 65534), (mirror: string) => `${versionsOf(mirror)} belongs to uid 65534, neither you nor root`],
    [(mirror: string) => chmodSync(join(versionsOf(mirror), `${refusable!.version}.info`), 0o666), (mirror: string) => `${join(versionsOf(mirror), `${refusable!.version}.info`)} can be written by others (mode 666)`],
    [(mirror: string) => mkdirSync(planted(mirror), { mode: 0o777 }) ?? chmodSync(planted(mirror), 0o777), (mirror: string) => `${planted(mirror)} can be written by others (mode 777)`],
    [(mirror: string) => symlinkSync(tempDir("btools-elsewhere-"), planted(mirror)), (mirror: string) => `${planted(mirror)} is a symbolic link`],
  ] as const) {
    const checkout = checkoutWithMirror();
    change(checkout.mirror);
    const { output, calls } = runTools(checkout);
    for (const call of callsFor(calls, refusable!.module)) assert.equal([call.GOPROXY, call.GONOSUMDB], [null, null], output);
    assert.match(output, `not using the module mirror: ${why(checkout.mirror)}`);
  }
});

test("BOTTLE_GO_MIRROR names the mirror, and a GOPROXY that already lists it is left as the user set it", () => {
  const checkout = checkoutWithMirror();
  const elsewhere = join(dirname(dirname(checkout.mirror)), "elsewhere");
  mkdirSync(dirname(elsewhere), { recursive: true });
  spawnSync("mv", [checkout.mirror, elsewhere]);
  const named = runTools(checkout, { BOTTLE_GO_MIRROR: elsewhere });
  for (const call of callsFor(named.calls, refusable!.module)) assert.is(call.GOPROXY, `file://${elsewhere},https://proxy.golang.org,direct`, named.output);

  const preset = checkoutWithMirror();
  const proxy = `https://proxy.example.invalid|file://${preset.mirror}`;
  const { output, calls } = runTools(preset, { GOPROXY: proxy, GONOSUMDB: "example.invalid/x" });
  for (const call of callsFor(calls, refusable!.module)) assert.equal([call.GOPROXY, call.GONOSUMDB], [proxy, "example.invalid/x"], output);
  assert.not.match(output, "from the module mirror");
});

const noRoot = requireRoot("it chowns the mirror to another user");
if (noRoot) skipSuite("tools-module-mirror", noRoot);
else test.run();
