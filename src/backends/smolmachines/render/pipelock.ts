// pipelock's config: strict mode, so only allowlisted hosts get through.
// pipelock rejects unknown keys (yaml KnownFields), so only keys its config
// struct has are written (internal/config/schema.go in pipelock's source).
import { stringify } from "yaml";

/**
 * The allowlist of a config that allows no host. pipelock's strict mode
 * refuses an empty list ("strict mode requires at least one domain in
 * api_allowlist"), so it holds one name under `.invalid`, a top-level domain
 * reserved never to resolve (RFC 6761): nothing gets through.
 */
export const ALLOWS_NOTHING = "allows-nothing.invalid";

/**
 * Addresses pipelock must never connect to, whatever a name resolves to:
 * pipelock's own default `internal` list (internal/config/defaults.go), written
 * out so a change of pipelock's defaults cannot shrink it, plus the bottle's
 * subnet. pipelock checks them on every resolved address (and on IP literals)
 * before it dials.
 */
export const SSRF_RANGES: readonly string[] = [
  "0.0.0.0/8", // "this" network
  "127.0.0.0/8", // loopback
  "10.0.0.0/8", // private
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16", // link-local, cloud metadata
  "100.64.0.0/10", // carrier-grade NAT
  "224.0.0.0/4", // multicast
  "::1/128", // loopback
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "ff00::/8", // multicast
];

export interface PipelockConfigOptions {
  /** Every host the config allows (its presets' and egress.allow); `*.example.com` wildcards pass through. Nothing else is added. */
  allow: readonly string[];
  /** The bottle's guest subnet (`192.168.N.0/24`), refused as a destination too. */
  subnetCidr: string;
}

export function renderPipelockConfig(opts: PipelockConfigOptions): string {
  const config = {
    version: 1,
    mode: "strict",
    enforce: true,
    api_allowlist: allowlist(opts.allow),
    forward_proxy: { enabled: true },
    dlp: { include_defaults: true, scan_env: true },
    internal: [...new Set([...SSRF_RANGES, opts.subnetCidr])],
    // pipelock scans bodies and its "sensitive" headers by default, but only
    // warns: blocking, and every header, must be asked for.
    request_body_scanning: { enabled: true, action: "block", scan_headers: true, header_mode: "all" },
  };
  return stringify(config);
}

function allowlist(hosts: readonly string[]): string[] {
  const cleaned = hosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  return cleaned.length ? [...new Set(cleaned)].sort() : [ALLOWS_NOTHING];
}
