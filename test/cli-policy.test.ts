// `bottle policy` on a built stage: every host the rendered pipelock.yaml
// allows, and only those, each with where the config says it; passthrough,
// SSRF, DLP and the git gate as rendered (a key the renderer does not write
// today shows up too); an out-of-date file is said to be; and whether the
// running pipelock loaded exactly this file, from its log (made-up lines,
// and the real pipelock's own output when it is installed).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { findTool } from "../src/lib/host-tools.js";
import { describeRun, homeFor, makeProject, runBottle, writeConfig } from "./helpers/cli.js";
import { freePort } from "./helpers/fakes.js";
import { requireTools, skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";
import { processStartTime } from "../src/lib/proc.js";

const CONFIG = {
  name: "demo",
  image: "alpine:3.20",
  agent: { command: ["sh"], env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" } },
  egress: { presets: ["claude-code"], allow: ["registry.npmjs.org", "sentry.io"] },
  gitGate: { remotes: { origin: { url: "https://git.example.com/team/app.git", token: { fromEnv: "GIT_TOKEN" }, push: ["agent/*"] } } },
};

interface PolicyJson {
  bottle: { name: string; config: string; stage: string };
  rendered: { task: string; fresh: boolean; reasons: string[] }[];
  proxy: {
    file: string;
    sha256: string;
    settings: Record<string, unknown>;
    allow: { host: string; from: Record<string, unknown>[]; note?: string; writeAnywhere?: string }[];
    tls: { intercepted: boolean; passthrough: string[] };
    ssrf: string[];
    dlp: { key: string; value: unknown; means?: string }[];
    other: { key: string; value: unknown }[];
  };
  gitGate: { kind: string; remotes: { name: string; url: string; push: string[]; allowForcePush: boolean; allowDelete: boolean; token: string }[] };
  running: { state: string; loaded?: string; loadedHash?: string | null; why?: string };
}

function built(config: object = CONFIG): { project: string; stage: string; yaml: string } {
  const project = makeProject(config);
  const build = runBottle(["build"], { cwd: project });
  assert.is(build.code, 0, describeRun(build));
  const stage = join(project, ".bottle", "demo");
  return { project, stage, yaml: join(stage, "pipelock.yaml") };
}

function policyJson(project: string): PolicyJson {
  const run = runBottle(["policy", "--json"], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  return JSON.parse(run.stdout) as PolicyJson;
}

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

test("before a build: exit 1, saying to run `bottle build`, and nothing is written", () => {
  const project = makeProject(CONFIG);
  const run = runBottle(["policy"], { cwd: project });
  assert.is(run.code, 1, describeRun(run));
  assert.match(run.stderr, "pipelock.yaml is not rendered yet: run `bottle build` first");
  assert.not.match(run.stderr, "internal error");
});

test("--json: exactly the rendered allowlist, each host with its preset or allow index; the whole rendered file; the git gate", () => {
  const { project, yaml } = built();
  const policy = policyJson(project);
  const rendered = parse(readFileSync(yaml, "utf8")) as Record<string, unknown>;
  assert.equal(policy.proxy.allow.map((h) => h.host), rendered.api_allowlist, "the hosts pipelock allows, no more, no fewer");
  assert.equal(
    policy.proxy.allow.map((h) => [h.host, h.from]),
    [
      ["api.anthropic.com", [{ kind: "preset", name: "claude-code", version: 1 }]],
      ["registry.npmjs.org", [{ kind: "allow", index: 0 }]],
      ["sentry.io", [{ kind: "allow", index: 1 }]],
    ],
  );
  assert.match(policy.proxy.allow[2]!.writeAnywhere ?? "", "Sentry's error-reporting intake");
  assert.equal(policy.proxy.settings, rendered, "the parsed file, every key");
  assert.is(policy.proxy.sha256, sha256(yaml));
  assert.equal(policy.proxy.ssrf, rendered.internal);
  assert.equal([policy.proxy.tls.intercepted, policy.proxy.tls.passthrough], [true, []]);
  assert.equal(policy.proxy.dlp.map((s) => [s.key, s.value]), [
    ["dlp.include_defaults", true],
    ["dlp.scan_env", false],
    ["dlp.secrets_file", (rendered.dlp as Record<string, unknown>).secrets_file],
    ["request_body_scanning.enabled", true],
    ["request_body_scanning.action", "block"],
    ["request_body_scanning.scan_headers", true],
    ["request_body_scanning.header_mode", "all"],
  ]);
  assert.equal(policy.gitGate.remotes, [{ name: "origin", url: "https://git.example.com/team/app.git", token: "from the host's $GIT_TOKEN (user x-access-token)", push: ["agent/*"], allowForcePush: false, allowDelete: false }]);
  assert.equal(policy.rendered, [
    { task: "pipelock.yaml", fresh: true, reasons: [] },
    { task: "sidecars.json", fresh: true, reasons: [] },
  ]);
  assert.equal(policy.running, { state: "not running" });
});

test("text: each host and where from, passthrough, SSRF, DLP, the git gate, not running", () => {
  const { project, yaml } = built();
  const run = runBottle(["policy"], { cwd: project });
  assert.is(run.code, 0, describeRun(run));
  const out = run.stdout;
  assert.match(out, `pipelock: ${yaml} (sha256 ${sha256(yaml)})`);
  assert.match(out, "rendered from the current config");
  assert.match(out, "allowed hosts; pipelock is in strict mode and enforcing: every other host is refused with 403:");
  assert.match(out, /^ {2}api\.anthropic\.com {3}preset claude-code@1$/m);
  assert.match(out, /^ {2}registry\.npmjs\.org {2}egress\.allow\[0\]$/m);
  assert.match(out, /^ {2}sentry\.io {11}egress\.allow\[1\]; takes writes from anyone: Sentry's error-reporting intake/m);
  assert.match(out, "passthrough (HTTPS bodies and headers not scanned):\n  none: every allowed host's HTTPS is decrypted and scanned\n  tls_interception.enabled: true");
  assert.match(out, "SSRF: never dialled, whatever a name resolves to:\n  0.0.0.0/8, 10.0.0.0/8,");
  assert.match(out, "  dlp.scan_env: false — pipelock's environment is not scanned");
  assert.match(out, "  request_body_scanning.action: block — a finding refuses the request (403)");
  assert.match(out, "  origin → https://git.example.com/team/app.git; push: agent/*; force push: no; delete: no; token from the host's $GIT_TOKEN (user x-access-token)");
  assert.match(out, "other pipelock settings:\n  version: 1\n  forward_proxy: {\"enabled\":true}");
  assert.match(out, "running: no");
});

test("a key the renderer does not write today (TLS interception, a secrets file, anything new) shows up as rendered, and the edited file is said to be out of date", () => {
  const { project, yaml } = built();
  const edited = { ...(parse(readFileSync(yaml, "utf8")) as Record<string, unknown>) };
  edited.tls_interception = { enabled: true, passthrough_domains: ["registry.npmjs.org"], cert_ttl: "24h" };
  edited.dlp = { ...(edited.dlp as object), secrets_file: "/stage/secrets" };
  edited.explain_blocks = true;
  writeFileSync(yaml, JSON.stringify(edited), { mode: 0o600 });
  const policy = policyJson(project);
  assert.equal(policy.proxy.tls.passthrough, ["registry.npmjs.org"]);
  assert.is(policy.proxy.tls.intercepted, true);
  assert.ok(policy.proxy.dlp.some((s) => s.key === "dlp.secrets_file" && s.value === "/stage/secrets" && s.means === "the secrets listed in /stage/secrets"));
  assert.ok(policy.proxy.other.some((s) => s.key === "explain_blocks" && s.value === true));
  assert.equal(policy.rendered[0], { task: "pipelock.yaml", fresh: false, reasons: ["output `pipelock.yaml` was modified"] });

  const text = runBottle(["policy"], { cwd: project }).stdout;
  assert.match(text, "passthrough (HTTPS bodies and headers not scanned):\n  registry.npmjs.org\n  tls_interception.enabled: true");
  assert.match(text, "  tls_interception.cert_ttl: 24h");
  assert.match(text, "older than the config: pipelock.yaml (output `pipelock.yaml` was modified)");
});

test("after a config edit, before the build: the file's hosts are shown, the dropped one marked not in the config, and the file out of date", () => {
  const { project } = built();
  writeConfig(project, { ...CONFIG, egress: { presets: ["claude-code"], allow: ["registry.npmjs.org"] } });
  const policy = policyJson(project);
  assert.equal(policy.rendered[0], { task: "pipelock.yaml", fresh: false, reasons: ["input `egress.allow` changed"] });
  const sentry = policy.proxy.allow.find((h) => h.host === "sentry.io");
  assert.equal(sentry?.from, []);
  assert.match(sentry?.note ?? "", "not in the config: the rendered file is older than the config");
});

/** A run record naming this test process as the bottle's live launcher, for `stage`. */
function pretendRunning(project: string, stage: string): void {
  const runDir = join(homeFor(project).XDG_RUNTIME_DIR, "bottle", "demo");
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const record = { pid: process.pid, pidStartTime: processStartTime(process.pid), slug: "demo", stageDir: stage, configPath: join(project, "bottle.config.ts"), octet: 9, ports: {}, children: {}, startedAt: Date.now(), control: join(runDir, "control.sock") };
  writeFileSync(join(runDir, "supervisor.json"), JSON.stringify(record));
  mkdirSync(join(stage, "logs"), { recursive: true, mode: 0o700 });
}

const logLine = (fields: object) => `${JSON.stringify({ level: "info", component: "pipelock", ...fields, time: "2026-01-01T00:00:00Z" })}\n`;

test("running: the last config hash in pipelock's log against the rendered file's sha256", () => {
  const { project, stage, yaml } = built();
  pretendRunning(project, stage);
  const log = join(stage, "logs", "pipelock.log");
  writeFileSync(log, `Pipelock v1 starting\n${logLine({ event: "startup", mode: "strict", config_hash: sha256(yaml) })}`);
  assert.equal(policyJson(project).running, { state: "running", pid: process.pid, log, loadedHash: sha256(yaml), loaded: "this policy" });
  assert.match(runBottle(["policy"], { cwd: project }).stdout, `running: yes (pid ${process.pid}); its pipelock loaded exactly this policy (config hash ${sha256(yaml)})`);

  // A new render it has not loaded (a reload it refused leaves the startup hash).
  writeConfig(project, { ...CONFIG, egress: { presets: ["claude-code"], allow: ["registry.npmjs.org"] } });
  assert.is(runBottle(["build"], { cwd: project }).code, 0);
  appendFileSync(log, logLine({ level: "error", event: "error", method: "CONFIG_RELOAD", error: "rejected: security downgrade from strict mode" }));
  const other = policyJson(project).running;
  assert.is(other.loaded, "another policy");
  assert.match(runBottle(["policy"], { cwd: project }).stdout, "its pipelock last loaded another policy");

  appendFileSync(log, logLine({ event: "config_reload", status: "success", config_hash: sha256(yaml) }));
  assert.is(policyJson(project).running.loaded, "this policy");
});

test("running, and the log is a symlink: it is not followed, and whether the policy is loaded is unknown, saying why", () => {
  const { project, stage, yaml } = built();
  pretendRunning(project, stage);
  const elsewhere = join(tempDir("elsewhere-"), "pipelock.log");
  writeFileSync(elsewhere, logLine({ event: "startup", config_hash: sha256(yaml) }));
  symlinkSync(elsewhere, join(stage, "logs", "pipelock.log"));
  const running = policyJson(project).running;
  assert.is(running.loaded, "unknown");
  assert.match(running.why ?? "", "is a symlink; bottle does not follow symlinks there");
});

const missing = requireTools(["pipelock"]);
if (missing) {
  skipSuite("cli-policy (against the real pipelock)", missing);
} else {
  test("the real pipelock, started on the rendered file with its output in the stage's log: it loaded this exact policy", async () => {
    const { project, stage, yaml } = built();
    pretendRunning(project, stage);
    // The secrets file the rendered config names (a launch writes it; the CA the build made is in the stage).
    const secretsFile = (parse(readFileSync(yaml, "utf8")) as { dlp: { secrets_file: string } }).dlp.secrets_file;
    mkdirSync(dirname(secretsFile), { recursive: true, mode: 0o700 });
    writeFileSync(secretsFile, "", { mode: 0o600 });
    const log = join(stage, "logs", "pipelock.log");
    const fd = openSync(log, "a", 0o600);
    const port = await freePort();
    const child = spawn(findTool("pipelock")!, ["run", "--config", yaml, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", fd, fd] });
    try {
      const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`pipelock exited (${code}): ${readFileSync(log, "utf8")}`))));
      await Promise.race([logShows(log, /"event":"startup"/), exited]);
      exited.catch(() => undefined);
      assert.equal(policyJson(project).running, { state: "running", pid: process.pid, log, loadedHash: sha256(yaml), loaded: "this policy" });
    } finally {
      child.kill("SIGTERM");
      rmSync(join(homeFor(project).XDG_RUNTIME_DIR, "bottle"), { recursive: true, force: true });
    }
  });
}

/** Resolves once the log file matches `pattern` (watched, not polled on a timer). */
async function logShows(path: string, pattern: RegExp): Promise<void> {
  const { watch } = await import("node:fs");
  await new Promise<void>((resolve) => {
    const watcher = watch(path, () => {
      if (!pattern.test(readFileSync(path, "utf8"))) return;
      watcher.close();
      resolve();
    });
    if (pattern.test(readFileSync(path, "utf8"))) {
      watcher.close();
      resolve();
    }
  });
}

test.run();
