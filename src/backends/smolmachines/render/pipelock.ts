// pipelock's config: strict mode, so only allowlisted hosts get through.
// pipelock rejects unknown keys, so only keys it documents are written.
import { stringify } from "yaml";

/** What the agent itself needs to reach, whatever the bottle's config adds. */
export const AGENT_DEFAULT_HOSTS: readonly string[] = [
  "api.anthropic.com",
  "statsig.anthropic.com",
  "sentry.io",
  "claude.ai",
  "platform.claude.com",
  "downloads.claude.ai",
  "raw.githubusercontent.com",
];

export interface PipelockConfigOptions {
  /** Extra hosts from the config's egress.allow; `*.example.com` wildcards pass through. */
  allow: readonly string[];
}

export function renderPipelockConfig(opts: PipelockConfigOptions): string {
  const config = {
    version: 1,
    mode: "strict",
    enforce: true,
    api_allowlist: normaliseHosts([...AGENT_DEFAULT_HOSTS, ...opts.allow]),
    forward_proxy: { enabled: true },
    dlp: { include_defaults: true, scan_env: true },
    // Off unless set: without it pipelock's DLP looks at URLs only, and a
    // secret in a header or a body of a plain-HTTP request leaves unseen.
    request_body_scanning: { enabled: true, action: "block", scan_headers: true, header_mode: "all" },
  };
  return stringify(config);
}

function normaliseHosts(hosts: readonly string[]): string[] {
  const cleaned = hosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  return [...new Set(cleaned)].sort();
}
