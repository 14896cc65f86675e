// Nothing reaches pipelock's allowlist that the config does not name
// (issue 19): a config without presets renders only its egress.allow; a
// preset adds exactly its hosts, each with a source; write-anywhere hosts
// are in no preset and warn when allowed by hand; an unknown preset is a
// validation error listing the known ones; a config naming no preset gets a
// one-time notice with the line to add.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { ALLOWS_NOTHING } from "../src/backends/smolmachines/render/pipelock.js";
import { EGRESS_PRESETS, WRITE_ANYWHERE, allowedHosts, writeAnywhereMatch } from "../src/config/egress-presets.js";
import { validateConfig } from "../src/config/validate.js";
import { describeRun, homeFor, makeProject, runBottle, writeConfig } from "./helpers/cli.js";

/** The seven hosts every bottle used to allow whatever its config said. */
const OLD_HIDDEN = ["api.anthropic.com", "statsig.anthropic.com", "sentry.io", "claude.ai", "platform.claude.com", "downloads.claude.ai", "raw.githubusercontent.com"];

const CLAUDE_ENV = { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" };

function config(egress: Record<string, unknown> | undefined, env: Record<string, string> = CLAUDE_ENV): Record<string, unknown> {
  return { name: "demo", image: "alpine:3.20", agent: { command: ["sh"], env }, ...(egress ? { egress } : {}) };
}

function validate(egress: Record<string, unknown> | undefined, env?: Record<string, string>) {
  return validateConfig(config(egress, env), "/");
}

/** Builds the project and returns the rendered allowlist and the run. */
function buildAllowlist(project: string): { allowlist: string[]; stderr: string } {
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  const rendered = parse(readFileSync(join(project, ".bottle", "demo", "pipelock.yaml"), "utf8")) as { api_allowlist: string[] };
  return { allowlist: rendered.api_allowlist, stderr: run.stderr };
}

test("a config without presets allows only its own egress.allow: none of the old hidden hosts", () => {
  const { allowlist } = buildAllowlist(makeProject(config({ allow: ["registry.npmjs.org"] })));
  assert.equal(allowlist, ["registry.npmjs.org"]);
  for (const host of OLD_HIDDEN) assert.not.ok(allowlist.includes(host), host);
});

test("a config that allows nothing renders pipelock's one required entry as a .invalid name, which never resolves", () => {
  const { allowlist } = buildAllowlist(makeProject(config(undefined)));
  assert.equal(allowlist, [ALLOWS_NOTHING]);
});

test("the claude-code preset adds api.anthropic.com and nothing else of the old list", () => {
  const result = validate({ presets: ["claude-code"], allow: ["registry.npmjs.org"] });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  if (!result.ok) return;
  assert.equal(result.config.egress.presets, [{ name: "claude-code", version: 1 }]);
  assert.equal(result.warnings, []);
  assert.equal(
    allowedHosts(result.config.egress).map(({ host, from }) => [host, from]),
    [
      ["api.anthropic.com", [{ kind: "preset", name: "claude-code", version: 1 }]],
      ["registry.npmjs.org", [{ kind: "allow", index: 0 }]],
    ],
  );

  const { allowlist } = buildAllowlist(makeProject(config({ presets: ["claude-code"], allow: ["registry.npmjs.org"] })));
  assert.equal(allowlist, ["api.anthropic.com", "registry.npmjs.org"]);
});

test("a preset may be pinned to a version; the same preset twice counts once", () => {
  const result = validate({ presets: ["claude-code@1", "claude-code"] });
  assert.ok(result.ok);
  if (result.ok) assert.equal(result.config.egress.presets, [{ name: "claude-code", version: 1 }]);
});

test("an unknown preset, or an unknown version, is a validation error naming the field and listing the known presets", () => {
  for (const [ref, expected] of [
    ["claude", /unknown preset `claude`; known presets: claude-code \(v1: api\.anthropic\.com\); claude-code-login \(v1: claude\.ai, platform\.claude\.com\)/],
    ["claude-code@7", /preset `claude-code` has no version 7 \(it has 1\); known presets: claude-code/],
    ["Claude-Code", /unknown preset `Claude-Code`/],
  ] as const) {
    const result = validate({ presets: ["claude-code-login", ref] });
    assert.not.ok(result.ok, ref);
    if (result.ok) continue;
    assert.equal(result.problems.map((p) => p.path), ["egress.presets[1]"], ref);
    assert.match(result.problems[0]!.message, expected);
  }
});

test("bottle build with an unknown preset exits 2 naming egress.presets[0] and writes nothing", () => {
  const project = makeProject(config({ presets: ["claude-cod"] }));
  const run = runBottle(["build"], { cwd: project });
  assert.is(run.code, 2, describeRun(run));
  assert.match(run.stderr, "egress.presets[0]: unknown preset `claude-cod`; known presets: claude-code");
  assert.equal(readdirSync(project), ["bottle.config.ts"]);
});

test("no preset of any version holds a write-anywhere host, and every preset host says why and where from", () => {
  for (const [name, versions] of Object.entries(EGRESS_PRESETS)) {
    for (const version of versions) {
      for (const { host, why, source } of version.hosts) {
        assert.is(writeAnywhereMatch(host), undefined, `${name}@${version.version}: ${host}`);
        assert.ok(why.length > 0 && /^https:\/\//.test(source), `${name}@${version.version}: ${host} has a reason and a source`);
      }
    }
  }
});

test("write-anywhere: the old list's telemetry, error-reporting and user-content hosts are on it, with their subdomains and covering wildcards", () => {
  for (const host of ["sentry.io", "o123.ingest.sentry.io", "statsig.anthropic.com", "raw.githubusercontent.com", "gist.githubusercontent.com", "*.githubusercontent.com", "gist.github.com", "*.github.com", "pastebin.com", "webhook.site"]) {
    assert.ok(writeAnywhereMatch(host), host);
  }
  for (const host of ["api.anthropic.com", "github.com", "registry.npmjs.org", "notsentry.io", "x.anthropic.com"]) {
    assert.is(writeAnywhereMatch(host), undefined, host);
  }
  assert.ok(WRITE_ANYWHERE.every(({ why }) => why.length > 0));
});

test("allowing a write-anywhere host by hand is valid, renders it, and warns saying why, at its index", () => {
  const result = validate({ presets: ["claude-code"], allow: ["registry.npmjs.org", "sentry.io", "*.github.com"] });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  if (!result.ok) return;
  assert.equal(result.warnings.map((w) => w.path), ["egress.allow[1]", "egress.allow[2]"]);
  assert.match(result.warnings[0]!.message, /^`sentry\.io` is Sentry's error-reporting intake/);
  assert.match(result.warnings[0]!.message, /no preset holds it\. Allowed because the config names it$/);
  assert.match(result.warnings[1]!.message, /^`\*\.github\.com` reaches gist\.github\.com: GitHub gists/);

  const project = makeProject(config({ presets: ["claude-code"], allow: ["registry.npmjs.org", "sentry.io"] }));
  const { allowlist, stderr } = buildAllowlist(project);
  assert.equal(allowlist, ["api.anthropic.com", "registry.npmjs.org", "sentry.io"]);
  const warnings = stderr.split("\n").filter((line) => line.startsWith("warning: "));
  assert.equal(warnings.length, 1, stderr);
  assert.match(warnings[0]!, `warning: ${join(project, "bottle.config.ts")}: egress.allow[1]: \`sentry.io\` is Sentry's error-reporting intake`);
});

test("the claude-code preset without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 in agent.env warns (the hosts it leaves out would be tried)", () => {
  const result = validate({ presets: ["claude-code"] }, {});
  assert.ok(result.ok);
  if (!result.ok) return;
  assert.equal(result.warnings.map((w) => w.path), ["egress.presets[0]"]);
  assert.match(result.warnings[0]!.message, 'claude-code@1 assumes agent.env sets CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1; without it the agent tries hosts the preset leaves out, and pipelock refuses them (add `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"` to agent.env)');
});

test("a config naming no preset gets a one-line notice with the exact line to add, once per config", () => {
  const project = makeProject(config({ allow: ["registry.npmjs.org"] }));
  const path = join(project, "bottle.config.ts");
  const notice = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("notice: "));
  const first = runBottle(["build"], { cwd: project });
  assert.is(first.code, 0, describeRun(first));
  assert.equal(notice(first.stderr), [
    `notice: ${path}: egress names no preset, so pipelock allows only egress.allow (bottle no longer adds Claude Code's hosts to every bottle); for Claude Code, write \`egress: { presets: ["claude-code"], allow: ["registry.npmjs.org"] },\` (\`bottle policy\` shows what is allowed)`,
  ]);
  for (const command of [["build"], ["explain"], ["graph"]]) {
    const again = runBottle(command, { cwd: project });
    assert.is(again.code, 0, describeRun(again));
    assert.equal(notice(again.stderr), [], `${command[0]}: the notice is given once`);
  }
  const markers = readdirSync(join(homeFor(project).XDG_STATE_HOME, "bottle", "notices"));
  assert.is(markers.length, 1);
  assert.match(markers[0]!, /^egress-presets-/);

  // Another config in the same home gets its own notice; a config with a preset gets none.
  const other = join(project, "other.config.ts");
  writeConfig(project, config({ allow: [] }), "other.config.ts");
  assert.is(notice(runBottle(["build", "--config", other, "--stage", join(project, "other-stage")], { cwd: project }).stderr).length, 1);
  writeConfig(project, config({ presets: ["claude-code"] }), "preset.config.ts");
  const withPreset = runBottle(["build", "--config", join(project, "preset.config.ts"), "--stage", join(project, "preset-stage")], { cwd: project });
  assert.is(withPreset.code, 0, describeRun(withPreset));
  assert.equal(notice(withPreset.stderr), []);
});

test.run();
