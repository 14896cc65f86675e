import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { confinementProblems } from "../src/config/host-checks.js";
import type { BottleConfig } from "../src/config/resolved.js";
import { validateConfig } from "../src/config/validate.js";
import { tempDir } from "./helpers/tmp.js";

function configWith(workspace: BottleConfig["workspace"]): BottleConfig {
  const result = validateConfig({ name: "demo", image: "alpine:3", agent: { command: ["sh"] } }, "/");
  if (!result.ok) throw new Error("base config is invalid");
  return { ...result.config, workspace };
}

test("the guest may not write the config, the stage dir or the run dir", () => {
  const root = tempDir();
  const config = configWith({ host: root, guest: "/workspace", readOnly: false });
  const problems = confinementProblems(config, {
    configFiles: [join(root, "bottle.config.ts"), "/elsewhere/hosts.ts"],
    stageDir: join(root, ".bottle", "demo"),
    runDir: join(root, "run"),
  });
  assert.equal(
    problems.map((p) => [p.path, p.message.split(":")[0]]),
    [
      ["workspace.host", "the guest could edit its own config"],
      ["workspace.host", "the guest could rewrite its rendered files (pipelock.yaml, smolfile.toml)"],
      ["workspace.host", "the guest could reach the bottle's sockets"],
    ],
  );
});

test("bottle's own install inside the writable workspace is refused (the guest could rewrite bottle)", () => {
  const root = tempDir();
  const config = configWith({ host: root, guest: "/workspace", readOnly: false });
  const problems = confinementProblems(config, { configFiles: [], stageDir: "/elsewhere/stage", runDir: "/run/x", install: join(root, "tools", "bottle") });
  assert.equal(problems.map((p) => p.path), ["workspace.host"]);
  assert.match(problems[0]!.message, `holds bottle's install ${join(root, "tools", "bottle")}`);
  assert.equal(confinementProblems(config, { configFiles: [], stageDir: "/elsewhere/stage", runDir: "/run/x", install: "/opt/bottle" }), []);
});

test("a symlinked workspace is resolved before comparing paths", () => {
  const real = tempDir();
  const link = join(tempDir(), "link");
  symlinkSync(real, link);
  const config = configWith({ host: link, guest: "/workspace", readOnly: false });
  const problems = confinementProblems(config, { configFiles: [], stageDir: join(real, "stage"), runDir: "/run/x" });
  assert.is(problems.length, 1);
});

test("a read-only workspace, or files outside a writable one, are fine", () => {
  const root = tempDir();
  mkdirSync(join(root, "ws"));
  const guarded = { configFiles: [join(root, "bottle.config.ts")], stageDir: join(root, ".bottle", "demo"), runDir: "/run/x" };
  assert.equal(confinementProblems(configWith({ host: root, guest: "/w", readOnly: true }), guarded), []);
  assert.equal(confinementProblems(configWith({ host: join(root, "ws"), guest: "/w", readOnly: false }), guarded), []);
  assert.equal(confinementProblems(configWith(null), guarded), []);
});

test("egress.allow refuses a wildcard over a whole top-level domain and single labels; host names are lower-cased", () => {
  const check = (allow: string[]) => validateConfig({ name: "demo", image: "a", agent: { command: ["sh"] }, egress: { allow } }, "/");
  for (const bad of ["*.com", "localhost", "*", "*.*.example.com"]) assert.not.ok(check([bad]).ok, bad);
  const ok = check(["Registry.NPMJS.org", "*.example.com"]);
  assert.ok(ok.ok);
  if (ok.ok) assert.equal(ok.config.egress.allow, ["registry.npmjs.org", "*.example.com"]);
});

test.run();
