// `bottle doctor`: one check per thing a launch needs, each failing one with
// its fix; exit 0 when a launch can work (warnings allowed), 1 otherwise.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { launchable, nodeVersion, runtimeDir, tools, virtualisation, type Check } from "../src/app/doctor/checks.js";
import { describeRun, makeProject, runBottle, validConfig } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

test("Node.js: 20.19 and later pass; older fails, saying what to install", () => {
  assert.is(nodeVersion("20.19.0").status, "ok");
  assert.is(nodeVersion("22.1.0").status, "ok");
  const old = nodeVersion("20.18.3");
  assert.is(old.status, "fail");
  assert.match(old.fix ?? "", "20.19 or later");
});

test("KVM: a missing device fails with the firmware and module fix; a usable one passes", () => {
  const missing = virtualisation("linux", join(tempDir("kvm-"), "kvm"));
  assert.is(missing.status, "fail");
  assert.match(missing.fix ?? "", "kvm_intel or kvm_amd");
  const device = join(tempDir("kvm-"), "kvm");
  writeFileSync(device, "");
  assert.is(virtualisation("linux", device).status, "ok");
  assert.is(virtualisation("win32").status, "fail");
});

test("XDG_RUNTIME_DIR: unset warns; not private fails with the chmod; private passes", () => {
  assert.is(runtimeDir({}).status, "warn");
  const dir = tempDir("xrd-");
  chmodSync(dir, 0o755);
  const open = runtimeDir({ XDG_RUNTIME_DIR: dir });
  assert.is(open.status, "fail");
  assert.match(open.fix ?? "", `chmod 0700 ${dir}`);
  chmodSync(dir, 0o700);
  assert.is(runtimeDir({ XDG_RUNTIME_DIR: dir }).status, "ok");
});

function tool(dir: string, name: string, answer: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\necho '${answer}'\n`, { mode: 0o755 });
}

test("tools: where each is and its version against the pin; a missing required one fails with its install hint; an unpinned version warns", async () => {
  const dir = tempDir("tools-");
  tool(dir, "smolvm", "smolvm 0.6.0");
  tool(dir, "gvproxy", "gvproxy version v0.8.7");
  tool(dir, "pipelock", "pipelock version v1.5.1-0.20260428150615-408651293dfc");
  const checks = await tools(dir, "linux");
  const by = Object.fromEntries(checks.map((c) => [c.name, c])) as Record<string, Check>;
  assert.is(by.smolvm!.status, "ok");
  assert.match(by.smolvm!.detail, `0.6.0 at ${join(dir, "smolvm")}`);
  assert.is(by.gvproxy!.status, "warn");
  assert.match(by.gvproxy!.detail, "bottle is tested with v0.8.9");
  assert.is(by.pipelock!.status, "ok");
  assert.match(by.pipelock!.detail, "(the pinned version)");
  assert.is(by.bwrap!.status, "fail", "no bwrap in that directory");
  assert.match(by.bwrap!.fix ?? "", "bubblewrap");
  assert.is(by.gitleaks!.status, "warn", "gitleaks is optional");
  assert.not.ok(launchable(checks));
});

test("the CLI: a missing smolvm fails (exit 1) naming its fix; --json says the same; the bottle's own dirs are checked", () => {
  const project = makeProject(validConfig());
  const bin = tempDir("doctor-bin-");
  mkdirSync(join(bin, "x"));
  const env = { PATH: `${bin}:/usr/bin:/bin`, BOTTLE_TOOLS_DIR: "" };
  const text = runBottle(["doctor"], { cwd: project, env });
  assert.is(text.code, 1, describeRun(text));
  assert.match(text.stdout, /^FAIL smolvm: not found/m);
  assert.match(text.stdout, /^ {5}fix: curl -sSL https:\/\/smolmachines\.com\/install\.sh/m);
  assert.match(text.stdout, /^ok {3}config: .*bottle\.config\.ts \(bottle demo\)$/m);
  assert.match(text.stdout, /^ok {3}stage dir: /m);
  assert.match(text.stdout, "`bottle launch` will fail here");
  const json = runBottle(["doctor", "--json"], { cwd: project, env });
  assert.is(json.code, 1);
  const report = JSON.parse(json.stdout) as { launchable: boolean; checks: Check[] };
  assert.is(report.launchable, false);
  assert.equal(report.checks.find((c) => c.name === "smolvm")?.status, "fail");
  assert.ok(report.checks.some((c) => c.name === "node" && c.status === "ok"));
});

test.run();
