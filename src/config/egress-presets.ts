// Named, versioned sets of hosts a config opts into with `egress.presets`,
// and the hosts no preset may ever hold. Nothing reaches pipelock's
// allowlist unless the config names it, directly (`egress.allow`) or through
// a preset; `bottle policy` shows which.
//
// A preset's hosts are frozen per version: `claude-code` means its newest
// version, `claude-code@1` pins one. A change of hosts is a new version, so a
// pinned config keeps what it was written against.

/** Claude Code's "Enterprise network configuration" page, section "Network access requirements". */
const CLAUDE_CODE_NETWORK_DOCS = "https://code.claude.com/docs/en/network-config#network-access-requirements";

export interface PresetHost {
  host: string;
  /** What the agent uses it for. */
  why: string;
  /** Where that comes from. */
  source: string;
}

export interface PresetVersion {
  version: number;
  summary: string;
  hosts: readonly PresetHost[];
  /** agent.env values the host list assumes (a warning names any that are missing). */
  expectsEnv?: Readonly<Record<string, string>>;
}

/**
 * Each preset's versions, oldest first. What is left out is as deliberate as
 * what is in (README, "The network path and the threat model"):
 * - statsig.anthropic.com (telemetry) and sentry.io (error reporting): with
 *   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 Claude Code sends neither
 *   (its data-usage page: the variable turns off Statsig, Sentry and /bug
 *   together), and both take writes from anyone (WRITE_ANYWHERE below).
 * - downloads.claude.ai: the native installer and its auto-updates; the
 *   variable turns auto-updates off, and an npm install (`npx
 *   @anthropic-ai/claude-code`) comes from the npm registry, which the
 *   config allows itself.
 * - raw.githubusercontent.com: not in Claude Code's list of required hosts;
 *   anyone's files (WRITE_ANYWHERE).
 * - claude.ai and platform.claude.com: account sign-in only (the docs:
 *   "claude.ai account authentication", "Claude Console account
 *   authentication"); with ANTHROPIC_API_KEY none is needed, so they are a
 *   preset of their own.
 */
export const EGRESS_PRESETS: Readonly<Record<string, readonly PresetVersion[]>> = {
  "claude-code": [
    {
      version: 1,
      summary: "Claude Code with an API key (ANTHROPIC_API_KEY) and CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1: the Claude API only",
      expectsEnv: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
      hosts: [{ host: "api.anthropic.com", why: "the Claude API: every model request", source: CLAUDE_CODE_NETWORK_DOCS }],
    },
  ],
  "claude-code-login": [
    {
      version: 1,
      summary: "Claude Code signing in with a claude.ai or Claude Console account (/login) instead of ANTHROPIC_API_KEY; use beside claude-code",
      hosts: [
        { host: "claude.ai", why: "claude.ai account authentication", source: CLAUDE_CODE_NETWORK_DOCS },
        { host: "platform.claude.com", why: "Claude Console account authentication", source: CLAUDE_CODE_NETWORK_DOCS },
      ],
    },
  ],
};

/**
 * Domains whose purpose is to take data from, or serve content uploaded by,
 * anyone at all: an agent allowed one can send the workspace to a project
 * of its own there, or fetch instructions someone planted. Their client keys
 * are public (shipped in every copy of the software that reports to them),
 * or they need no key. A domain here covers its subdomains. No preset may
 * hold one (a test checks); `egress.allow` may, with a warning saying why.
 *
 * Services where writing needs an account (api.anthropic.com, github.com,
 * package registries) are not listed: any account holder can write there
 * too, and an allowlist of host names cannot tell accounts apart.
 */
export const WRITE_ANYWHERE: readonly { domain: string; why: string }[] = [
  // Error reporting: events posted with a public key; the project is whoever's key it is.
  { domain: "sentry.io", why: "Sentry's error-reporting intake (Claude Code's, when telemetry is on): any client can post events, with any project's public key" },
  { domain: "bugsnag.com", why: "Bugsnag's error-reporting intake: any client can post events with any project's public key" },
  { domain: "rollbar.com", why: "Rollbar's error-reporting intake: any client can post items with any project's public token" },
  // Telemetry and analytics: the same, for events.
  { domain: "statsig.anthropic.com", why: "Statsig telemetry (Claude Code's, when telemetry is on): any client can post events" },
  { domain: "statsig.com", why: "Statsig's telemetry intake: any client can post events with any project's public key" },
  { domain: "statsigapi.net", why: "Statsig's telemetry intake: any client can post events with any project's public key" },
  { domain: "featuregates.org", why: "Statsig's telemetry intake: any client can post events with any project's public key" },
  { domain: "datadoghq.com", why: "Datadog's log and event intake: any client can post with any account's client token" },
  { domain: "segment.io", why: "Segment's analytics intake: any client can post events with any project's write key" },
  { domain: "mixpanel.com", why: "Mixpanel's analytics intake: any client can post events with any project's token" },
  { domain: "amplitude.com", why: "Amplitude's analytics intake: any client can post events with any project's key" },
  { domain: "posthog.com", why: "PostHog's analytics intake: any client can post events with any project's key" },
  { domain: "google-analytics.com", why: "Google Analytics' intake: any client can post events for any property" },
  // User content: files anyone published, served to anyone.
  { domain: "githubusercontent.com", why: "GitHub's user-content host (raw files, gists, release assets, images): any GitHub user's files" },
  { domain: "gist.github.com", why: "GitHub gists: anyone's snippets, and anyone with an account can create one" },
  { domain: "pastebin.com", why: "a pastebin: anyone can post and read pastes" },
  { domain: "paste.ee", why: "a pastebin: anyone can post and read pastes" },
  { domain: "hastebin.com", why: "a pastebin: anyone can post and read pastes" },
  { domain: "dpaste.org", why: "a pastebin: anyone can post and read pastes" },
  { domain: "paste.rs", why: "a pastebin: anyone can post and read pastes" },
  { domain: "termbin.com", why: "a pastebin: anyone can post and read pastes" },
  { domain: "ix.io", why: "a pastebin: anyone can post and read pastes" },
  { domain: "sprunge.us", why: "a pastebin: anyone can post and read pastes" },
  // Anonymous file drops.
  { domain: "transfer.sh", why: "an anonymous file drop: anyone can upload and download" },
  { domain: "0x0.st", why: "an anonymous file drop: anyone can upload and download" },
  { domain: "file.io", why: "an anonymous file drop: anyone can upload and download" },
  { domain: "tmpfiles.org", why: "an anonymous file drop: anyone can upload and download" },
  { domain: "catbox.moe", why: "an anonymous file drop: anyone can upload and download" },
  { domain: "temp.sh", why: "an anonymous file drop: anyone can upload and download" },
  // Request catchers, webhooks and tunnels: whatever is sent goes to whoever made the URL.
  { domain: "webhook.site", why: "a request catcher: whatever is sent is shown to whoever made the URL" },
  { domain: "pipedream.net", why: "a request catcher: whatever is sent goes to whoever made the endpoint" },
  { domain: "requestbin.com", why: "a request catcher: whatever is sent is shown to whoever made the bin" },
  { domain: "hooks.slack.com", why: "Slack's incoming webhooks: whatever is posted lands in whoever's channel the URL names" },
  { domain: "discord.com", why: "Discord (its webhooks): whatever is posted lands in whoever's channel the URL names" },
  { domain: "ngrok.io", why: "ngrok tunnels: each name leads to whoever runs the tunnel" },
  { domain: "ngrok-free.app", why: "ngrok tunnels: each name leads to whoever runs the tunnel" },
  { domain: "trycloudflare.com", why: "Cloudflare quick tunnels: each name leads to whoever runs the tunnel" },
];

export interface PresetRef {
  name: string;
  version: number;
}

/** `claude-code` (its newest version) or `claude-code@1`, resolved; or why not. */
export function resolvePreset(ref: string): { ok: true; preset: PresetRef & PresetVersion } | { ok: false; problem: string } {
  const match = /^([a-z0-9-]+)(?:@([0-9]+))?$/.exec(ref);
  const versions = match ? EGRESS_PRESETS[match[1]!] : undefined;
  if (!match || !versions) return { ok: false, problem: `unknown preset \`${ref}\`; known presets: ${knownPresets()}` };
  const wanted = match[2] === undefined ? versions[versions.length - 1]! : versions.find((v) => v.version === Number(match[2]));
  if (!wanted) return { ok: false, problem: `preset \`${match[1]}\` has no version ${match[2]} (it has ${versions.map((v) => v.version).join(", ")}); known presets: ${knownPresets()}` };
  return { ok: true, preset: { name: match[1]!, ...wanted } };
}

function knownPresets(): string {
  return Object.entries(EGRESS_PRESETS)
    .map(([name, versions]) => `${name} (v${versions[versions.length - 1]!.version}: ${versions[versions.length - 1]!.hosts.map((h) => h.host).join(", ")})`)
    .join("; ");
}

/** The preset a resolved ref names; it exists, because validation resolved it. */
export function presetOf(ref: PresetRef): PresetVersion {
  const found = EGRESS_PRESETS[ref.name]?.find((v) => v.version === ref.version);
  if (!found) throw new Error(`preset ${ref.name}@${ref.version} does not exist (validation should have refused it)`);
  return found;
}

/** The write-anywhere domain an allowlist entry (`host` or `*.domain`) reaches, if any. */
export function writeAnywhereMatch(entry: string): { domain: string; why: string } | undefined {
  const host = entry.toLowerCase();
  const wildcard = host.startsWith("*.");
  const apex = wildcard ? host.slice(2) : host;
  return WRITE_ANYWHERE.find(({ domain }) => apex === domain || apex.endsWith(`.${domain}`) || (wildcard && domain.endsWith(`.${apex}`)));
}

export type HostSource = { kind: "preset"; name: string; version: number } | { kind: "allow"; index: number };

export interface AllowedHost {
  host: string;
  from: HostSource[];
}

/** Every host the config allows, lower-cased and sorted, each with where it came from. */
export function allowedHosts(egress: { presets: readonly PresetRef[]; allow: readonly string[] }): AllowedHost[] {
  const byHost = new Map<string, HostSource[]>();
  const add = (host: string, source: HostSource): void => {
    const key = host.trim().toLowerCase();
    byHost.set(key, [...(byHost.get(key) ?? []), source]);
  };
  for (const ref of egress.presets) for (const { host } of presetOf(ref).hosts) add(host, { kind: "preset", ...ref });
  egress.allow.forEach((host, index) => add(host, { kind: "allow", index }));
  return [...byHost].map(([host, from]) => ({ host, from })).sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

export function describeSource(source: HostSource): string {
  return source.kind === "preset" ? `preset ${source.name}@${source.version}` : `egress.allow[${source.index}]`;
}

/** Warnings (never errors) about a valid egress config: a write-anywhere host allowed by hand, a preset's expected env missing. */
export function egressWarnings(egress: { presets: readonly PresetRef[]; allow: readonly string[] }, agentEnv: Readonly<Record<string, string>>): { path: string; message: string }[] {
  const warnings: { path: string; message: string }[] = [];
  egress.allow.forEach((entry, index) => {
    const match = writeAnywhereMatch(entry);
    if (!match) return;
    const what = match.domain === entry.replace(/^\*\./, "") ? `\`${entry}\` is` : `\`${entry}\` reaches ${match.domain}:`;
    warnings.push({
      path: `egress.allow[${index}]`,
      message: `${what} ${match.why}. An agent allowed it can send out whatever it reads, or take instructions someone left there; no preset holds it. Allowed because the config names it`,
    });
  });
  egress.presets.forEach((ref, index) => {
    for (const [name, value] of Object.entries(presetOf(ref).expectsEnv ?? {})) {
      if (agentEnv[name] === value) continue;
      warnings.push({
        path: `egress.presets[${index}]`,
        message: `${ref.name}@${ref.version} assumes agent.env sets ${name}=${value}; without it the agent tries hosts the preset leaves out, and pipelock refuses them (add \`${name}: "${value}"\` to agent.env)`,
      });
    }
  });
  return warnings;
}
