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
  /** Every host the config allows (its presets' and egress.allow); `*.example.com` wildcards pass through. Only passthrough hosts and the injector's name are added. */
  allow: readonly string[];
  /** The bottle's guest subnet (`192.168.N.0/24`), refused as a destination too. */
  subnetCidr: string;
  /**
   * pipelock's `dlp.secrets_file` (absolute): the values bottle knows to be
   * secret, one per line, written by the launch. pipelock's own environment
   * is kept minimal, so scanning it (`scan_env`) would find nothing, and
   * guessing secrets from it by entropy would find the wrong things.
   */
  secretsFile: string;
  /** TLS interception: pipelock opens HTTPS with the bottle's own CA, so DLP sees inside it. */
  tls: PipelockTls;
  /**
   * The name pipelock reaches bottle's credential injector by, or null
   * without injected secrets: allowed, and admitted past the SSRF check
   * (`trusted_domains`), since in pipelock's own /etc/hosts it is 127.0.0.1.
   */
  injectorName: string | null;
}

export interface PipelockTls {
  /** The bottle's CA certificate and key (absolute), in the stage; the guest trusts the certificate. */
  caCert: string;
  caKey: string;
  /** Hosts whose TLS is not opened (they pin certificates); allowed too. `*.x` means x and its subdomains, as in allow. */
  passthrough: readonly string[];
  /** The largest intercepted response pipelock relays (it holds it whole to scan it). */
  maxResponseBytes: number;
}

/**
 * pipelock's passthrough `*.x` matches subdomains only, while its allowlist's
 * `*.x` matches x too: bottle's `*.x` means the same in both, so x is added.
 */
export function passthroughDomains(hosts: readonly string[]): string[] {
  return normaliseHosts(hosts.flatMap((host) => (host.startsWith("*.") ? [host.slice(2), host] : [host])));
}

export function renderPipelockConfig(opts: PipelockConfigOptions): string {
  const config = {
    version: 1,
    mode: "strict",
    enforce: true,
    api_allowlist: allowlist([...opts.allow, ...opts.tls.passthrough, ...(opts.injectorName ? [opts.injectorName] : [])]),
    ...(opts.injectorName ? { trusted_domains: [opts.injectorName] } : {}),
    forward_proxy: { enabled: true },
    tls_interception: {
      enabled: true,
      ca_cert: opts.tls.caCert,
      ca_key: opts.tls.caKey,
      passthrough_domains: passthroughDomains(opts.tls.passthrough),
      max_response_bytes: opts.tls.maxResponseBytes,
    },
    dlp: { include_defaults: true, scan_env: false, secrets_file: opts.secretsFile },
    internal: [...new Set([...SSRF_RANGES, opts.subnetCidr])],
    // pipelock scans bodies and its "sensitive" headers by default, but only
    // warns: blocking, and every header, must be asked for.
    request_body_scanning: { enabled: true, action: "block", scan_headers: true, header_mode: "all" },
  };
  return stringify(config);
}

function allowlist(hosts: readonly string[]): string[] {
  const cleaned = normaliseHosts(hosts);
  return cleaned.length ? cleaned : [ALLOWS_NOTHING];
}

function normaliseHosts(hosts: readonly string[]): string[] {
  const cleaned = hosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  return [...new Set(cleaned)].sort();
}
