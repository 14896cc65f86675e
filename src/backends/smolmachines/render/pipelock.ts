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
 * every block of IANA's IPv4 and IPv6 Special-Purpose Address Registries
 * (RFC 6890 and the RFCs since) through which a connection could reach this
 * host, its LAN or some network's inside, plus multicast, IPv4-compatible
 * and site-local space, and the bottle's subnet. A superset of pipelock's
 * own default (internal/config/defaults.go), written out so a change there
 * cannot shrink it. pipelock checks every resolved address (and IP
 * literals) against it before it dials, IPv4-mapped ones (::ffff:a.b.c.d)
 * as the IPv4 address they carry (scanner.IsInternalIP calls ip.To4()).
 *
 * Left out on purpose:
 * - ::ffff:0:0/96 (IPv4-mapped): covered by the IPv4 blocks, as above; and
 *   Go's net.IPNet.Contains reads that entry as 0.0.0.0/0, so it would
 *   refuse every IPv4 destination.
 * - 198.18.0.0/15 (benchmarking, RFC 2544): a lab range, never routed
 *   publicly. The acceptance suite's outside world lives in it, and proxy
 *   tools' "fake-IP" DNS (Clash, sing-box) answers every name with one of
 *   its addresses, which then leads to that name. A host whose own network
 *   uses it is not protected from it (README: accepted).
 */
export const SSRF_RANGES: readonly string[] = [
  // IPv4
  "0.0.0.0/8", // "this" network (RFC 791, 1122): 0.0.0.0 connects to this host
  "10.0.0.0/8", // private use (RFC 1918)
  "100.64.0.0/10", // shared address space, carrier-grade NAT (RFC 6598)
  "127.0.0.0/8", // loopback (RFC 1122)
  "169.254.0.0/16", // link local (RFC 3927): cloud metadata services
  "172.16.0.0/12", // private use (RFC 1918)
  "192.0.0.0/24", // IETF protocol assignments (RFC 6890): DS-Lite's B4 (RFC 7335), PCP and TURN anycast to the nearest router (RFC 7723, 8155), NAT64 discovery (RFC 7050)
  "192.0.2.0/24", // documentation, TEST-NET-1 (RFC 5737): used as a LAN in places
  "192.31.196.0/24", // AS112-v4 (RFC 7535): DNS sinks operators run inside their networks
  "192.52.193.0/24", // AMT relays, anycast to the nearest (RFC 7450)
  "192.88.99.0/24", // 6to4 relay anycast (RFC 3068, deprecated by RFC 7526)
  "192.168.0.0/16", // private use (RFC 1918)
  "192.175.48.0/24", // AS112 direct delegation (RFC 7534)
  "198.51.100.0/24", // documentation, TEST-NET-2 (RFC 5737)
  "203.0.113.0/24", // documentation, TEST-NET-3 (RFC 5737)
  "224.0.0.0/4", // multicast (RFC 5771)
  "240.0.0.0/4", // reserved (RFC 1112): some cloud networks route it inside
  "255.255.255.255/32", // limited broadcast (RFC 919, 8190)
  // IPv6
  "::/128", // unspecified (RFC 4291): Linux connects it to loopback
  "::1/128", // loopback (RFC 4291)
  "::/96", // IPv4-compatible, deprecated (RFC 4291 2.5.5.1)
  "64:ff9b::/96", // NAT64 (RFC 6052): a translator forwards to the IPv4 address inside, 10.0.0.1 or its own 127.0.0.1
  "64:ff9b:1::/48", // local-use NAT64 (RFC 8215)
  "100::/64", // discard-only (RFC 6666)
  "100:0:0:1::/64", // dummy prefix (RFC 9780)
  "2001::/23", // IETF protocol assignments (RFC 2928): PCP/TURN anycast, benchmarking, AMT, AS112, ORCHID
  "2001::/32", // Teredo (RFC 4380), inside the above: carries an IPv4 server and client address
  "2001:db8::/32", // documentation (RFC 3849)
  "2002::/16", // 6to4 (RFC 3056): 2002:7f00:1::/48 is 127.0.0.1 to a 6to4 relay
  "2620:4f:8000::/48", // AS112 direct delegation (RFC 7534)
  "3fff::/20", // documentation (RFC 9637)
  "5f00::/16", // SRv6 segment identifiers (RFC 9602): inside a segment-routing domain
  "fc00::/7", // unique local (RFC 4193)
  "fe80::/10", // link-local (RFC 4291)
  "fec0::/10", // site-local, deprecated (RFC 3879): still routed inside old networks
  "ff00::/8", // multicast (RFC 4291)
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
