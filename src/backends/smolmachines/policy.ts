// `bottle policy` for the smolmachines backend: what the rendered
// pipelock.yaml and sidecars.json enforce, read back from the files (so a
// key added to the renderer later shows up here unchanged), where the
// config says each allowed host, and whether the running pipelock has
// loaded exactly this file (the config hash in its log).
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { sha256Hex } from "../../lib/hash.js";
import type { BuildContext } from "./context.js";
import { allowedHosts, writeAnywhereMatch, type HostSource } from "../../config/egress-presets.js";
import { BottleError, errorMessage } from "../../lib/errors.js";
import { logPath } from "./logs.js";
import { lastLoadedConfigHash } from "./pipelock-log.js";
import { ALLOWS_NOTHING } from "./render/pipelock.js";
import { liveLaunchRecord } from "./launch-record.js";
import { SIDECAR_LOG_ROLE } from "./sidecar-names.js";
import { readBytesNoFollow, readFileNoFollow } from "../../lib/no-follow.js";

/** One allowed host of the proxy, with where the config says it (none: the rendered file is stale, or it is a placeholder; `note` says which). */
export interface PolicyHost {
  host: string;
  from: HostSource[];
  note?: string;
  /** Why the host takes writes from anyone, when it does. */
  writeAnywhere?: string;
}

/** A setting as the rendered file has it, with what it means where bottle knows. */
export interface PolicySetting {
  key: string;
  value: unknown;
  means?: string;
}

/** What a bottle's rendered files enforce, and whether the running bottle has loaded them: `bottle policy`. */
export interface EffectivePolicy {
  proxy: {
    /** The program and its rendered config. */
    program: string;
    file: string;
    /** Hex sha256 of the file's bytes. */
    sha256: string;
    /** Everything the file says, parsed (keys bottle does not know yet included). */
    settings: Record<string, unknown>;
    /** How the proxy treats a host that is not allowed. */
    mode: string;
    allow: PolicyHost[];
    /** Whether HTTPS is decrypted and scanned, and the hosts whose bodies are not (passthrough). */
    tls: { intercepted: boolean; passthrough: string[]; settings: PolicySetting[] };
    /** Address ranges never dialled, whatever a name resolves to. */
    ssrf: string[];
    dlp: PolicySetting[];
    /** Top-level settings shown nowhere above. */
    other: PolicySetting[];
  };
  gitGate: { kind: "builtin"; file: string; remotes: { name: string; url: string; token: string; push: string[]; allowForcePush: boolean; allowDelete: boolean }[] } | { kind: "sidecar"; file: string; command: string[] } | null;
  /** The tasks whose outputs the policy was read from (a stale one means the files lag the config). */
  renderedBy: string[];
  running:
    | { state: "not running" }
    | { state: "running elsewhere"; pid: number; stageDir: string }
    | { state: "running"; pid: number; log: string; loadedHash: string | null; loaded: "this policy" | "another policy" | "unknown"; why?: string };
}

type Settings = Record<string, unknown>;

/** What bottle knows the settings mean (pipelock's internal/config, and its docs); others are shown as they are. */
const MEANING: Readonly<Record<string, (value: unknown) => string | undefined>> = {
  "dlp.include_defaults": (v) => (v === true ? "pipelock's built-in credential patterns (API keys, tokens, private keys)" : "pipelock's built-in patterns are off"),
  "dlp.scan_env": (v) => (v === true ? "every value in pipelock's environment of 16+ characters with high entropy: the agent's secrets, raw or encoded" : "pipelock's environment is not scanned"),
  "dlp.secrets_file": (v) => `the secrets listed in ${String(v)}`,
  "dlp.patterns": () => "the config's own patterns",
  "request_body_scanning.enabled": (v) => (v === true ? "request bodies are scanned (plain HTTP; HTTPS only where it is intercepted)" : "request bodies are not scanned"),
  "request_body_scanning.action": (v) => (v === "block" ? "a finding refuses the request (403)" : v === "warn" ? "a finding is only logged" : undefined),
  "request_body_scanning.scan_headers": (v) => (v === true ? "request headers are scanned" : "request headers are not scanned"),
  "request_body_scanning.header_mode": (v) => (v === "all" ? "every header" : v === "sensitive" ? "only pipelock's six sensitive headers" : undefined),
  "tls_interception.enabled": (v) => (v === true ? "HTTPS is decrypted, scanned and re-encrypted" : "HTTPS is not decrypted"),
  "tls_interception.passthrough_domains": () => "hosts whose HTTPS is not decrypted: bodies and headers unscanned",
};

/** The top-level keys shown in a section of their own. */
const SHOWN = new Set(["mode", "enforce", "api_allowlist", "tls_interception", "internal", "dlp", "request_body_scanning", "response_scanning"]);

export function effectivePolicy(ctx: BuildContext): EffectivePolicy {
  const file = join(ctx.stageDir, "pipelock.yaml");
  const bytes = readBytesNoFollow(file);
  if (bytes === null) throw new BottleError("failed", `${file} is not rendered yet: run \`bottle build\` first (bottle policy reads what the rendered files enforce)`);
  const sha256 = sha256Hex(bytes);
  let settings: Settings;
  try {
    settings = asSettings(parse(bytes.toString("utf8")));
  } catch (error) {
    throw new BottleError("failed", `${file} is not a pipelock config (${errorMessage(error)}); \`bottle build --force pipelock.yaml\` renders it again`, { cause: error });
  }
  const tls = asSettings(settings.tls_interception);
  return {
    proxy: {
      program: "pipelock",
      file,
      sha256,
      settings,
      mode: describeMode(settings),
      allow: allowlist(ctx, strings(settings.api_allowlist)),
      tls: { intercepted: tls.enabled === true, passthrough: strings(tls.passthrough_domains), settings: described("tls_interception", tls) },
      ssrf: strings(settings.internal),
      dlp: ["dlp", "request_body_scanning", "response_scanning"].flatMap((section) => described(section, asSettings(settings[section]))),
      other: Object.entries(settings)
        .filter(([key]) => !SHOWN.has(key))
        .map(([key, value]) => ({ key, value })),
    },
    gitGate: gitGate(ctx),
    renderedBy: ["pipelock.yaml", "sidecars.json"],
    running: running(ctx, sha256),
  };
}

function describeMode(settings: Settings): string {
  const enforcing = settings.enforce !== false;
  if (settings.mode === "strict") return enforcing ? "pipelock is in strict mode and enforcing: every other host is refused with 403" : "pipelock is in strict mode but not enforcing: refusals are only logged";
  return `pipelock is in ${String(settings.mode ?? "balanced")} mode${enforcing ? "" : ", not enforcing"}: a host not listed is not refused for that alone`;
}

/** The rendered allowlist, each host with where the config names it. */
function allowlist(ctx: BuildContext, rendered: string[]): PolicyHost[] {
  const sources = new Map(allowedHosts(ctx.config.egress).map(({ host, from }) => [host, from]));
  return rendered.map((host) => {
    const from = sources.get(host) ?? [];
    const writeAnywhere = writeAnywhereMatch(host)?.why;
    const note =
      host === ALLOWS_NOTHING
        ? "the config allows no host; pipelock's strict mode needs one entry, and a name under .invalid never resolves"
        : from.length === 0
          ? "not in the config: the rendered file is older than the config (`bottle build` renders it again)"
          : undefined;
    return { host, from, ...(note ? { note } : {}), ...(writeAnywhere ? { writeAnywhere } : {}) };
  });
}

function gitGate(ctx: BuildContext): EffectivePolicy["gitGate"] {
  const file = join(ctx.stageDir, "sidecars.json");
  const text = readFileNoFollow(file);
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BottleError("failed", `${file} is not valid JSON (${errorMessage(error)}); \`bottle build --force sidecars.json\` renders it again`, { cause: error });
  }
  const record = asSettings(asSettings(parsed).gitGate);
  if (Array.isArray(record.command)) return { kind: "sidecar", file, command: strings(record.command) };
  if (record.builtin !== true) return null;
  const remotes = Object.entries(asSettings(record.remotes)).map(([name, value]) => {
    const remote = asSettings(value);
    return {
      name,
      url: String(remote.url),
      token: String(remote.token),
      push: strings(remote.push),
      allowForcePush: remote.allowForcePush === true,
      allowDelete: remote.allowDelete === true,
    };
  });
  return { kind: "builtin", file, remotes };
}

/** Whether the running pipelock's last accepted load (its log) was exactly the rendered file. */
function running(ctx: BuildContext, sha256: string): EffectivePolicy["running"] {
  const record = liveLaunchRecord(ctx.runDir);
  if (!record) return { state: "not running" };
  if (resolve(record.stageDir) !== resolve(ctx.stageDir)) return { state: "running elsewhere", pid: record.pid, stageDir: record.stageDir };
  const log = logPath(ctx.stageDir, SIDECAR_LOG_ROLE.pipelock);
  let text: string | null;
  try {
    text = readFileNoFollow(log);
  } catch (error) {
    if (!(error instanceof BottleError)) throw error;
    return { state: "running", pid: record.pid, log, loadedHash: null, loaded: "unknown", why: error.message };
  }
  const loadedHash = text === null ? null : lastLoadedConfigHash(text);
  if (loadedHash === null) return { state: "running", pid: record.pid, log, loadedHash, loaded: "unknown", why: text === null ? "its log is missing" : "its log records no config load yet" };
  return { state: "running", pid: record.pid, log, loadedHash, loaded: loadedHash === sha256 ? "this policy" : "another policy" };
}

function described(section: string, values: Settings): PolicySetting[] {
  return Object.entries(values).map(([key, value]) => {
    const means = MEANING[`${section}.${key}`]?.(value);
    return { key: `${section}.${key}`, value, ...(means ? { means } : {}) };
  });
}

function asSettings(value: unknown): Settings {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Settings) : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
