// The acceptance table: every attempt the probe makes, what a sealed bottle
// must show, and the host-side fact that backs it (a server that must have
// received nothing). Pure: the harness feeds it what it saw.
import type { ProbeResult } from "./probe-protocol.js";

export interface Row {
  id: string;
  attempt: string;
  expected: string;
  observed: string;
  pass: boolean;
}

export interface RowSpec {
  id: string;
  attempt: string;
  expected: string;
}

export const ROWS: readonly RowSpec[] = [
  { id: "proxy-resolves", attempt: "control: resolve proxy.internal", expected: "the gateway's address" },
  { id: "allowed-host", attempt: "control: allowlisted test host through the proxy", expected: "200 with the body the test host sent" },
  { id: "proxy-not-allowlisted", attempt: "proxy: a host not on the allowlist", expected: "403; the host saw nothing" },
  { id: "proxy-old-default-host", attempt: "proxy: sentry.io, once allowed in every bottle, with the claude-code preset", expected: "403; the host saw nothing" },
  { id: "proxy-ip-literal", attempt: "proxy: an IP literal", expected: "403; the host saw nothing" },
  { id: "proxy-host-loopback", attempt: "proxy: a host loopback port (127.0.0.1)", expected: "403; the loopback listener saw nothing" },
  { id: "dlp-path", attempt: "secret canary in the URL path (allowlisted host)", expected: "403; the host never saw it" },
  { id: "dlp-query", attempt: "secret canary in the query", expected: "403; the host never saw it" },
  { id: "dlp-header", attempt: "secret canary in a header", expected: "403; the host never saw it" },
  { id: "dlp-body", attempt: "secret canary in a JSON body", expected: "403; the host never saw it" },
  { id: "https-intercepted", attempt: "control: HTTPS to an allowlisted host (pipelock opens it)", expected: "200; the certificate is from the bottle's CA" },
  { id: "https-curl-bundle", attempt: "control: curl over HTTPS, trusting the guest's bundle (SSL_CERT_FILE, CURL_CA_BUNDLE)", expected: "200" },
  { id: "https-dlp-path", attempt: "secret canary over HTTPS in the URL path", expected: "403; the host never saw it" },
  { id: "https-dlp-query", attempt: "secret canary over HTTPS in the query", expected: "403; the host never saw it" },
  { id: "https-dlp-header", attempt: "secret canary over HTTPS in a header", expected: "403; the host never saw it" },
  { id: "https-dlp-body", attempt: "secret canary over HTTPS in a JSON body", expected: "403; the host never saw it" },
  { id: "https-dlp-multipart", attempt: "secret canary over HTTPS in a multipart upload", expected: "403; the host never saw it" },
  { id: "https-passthrough", attempt: "control: an egress.passthrough host over HTTPS", expected: "200; its own certificate (not opened)" },
  { id: "inject-placeholder-swapped", attempt: "control: an injected credential's placeholder, to its host through the injector", expected: "200; the host got the real value, never the placeholder" },
  { id: "inject-guest-never-holds", attempt: "the injected credential's value in the guest's environment or files", expected: "nowhere" },
  { id: "inject-own-key-refused", attempt: "a key the agent made up, to the injected host", expected: "403; nothing arrives" },
  { id: "inject-dlp", attempt: "the canary in a body to the injected host", expected: "403 from pipelock; the host never saw it" },
  { id: "inject-placeholder-elsewhere", attempt: "the placeholder sent to another allowlisted host", expected: "only the placeholder arrives, never the value" },
  { id: "direct-tcp", attempt: "no proxy: TCP to the test host", expected: "fails; the host saw no connection" },
  { id: "direct-udp", attempt: "no proxy: UDP to the test host", expected: "never arrives" },
  { id: "gateway-nat-loopback", attempt: "no proxy: a host loopback port that is not a sidecar, via the gateway's NAT", expected: "fails; the listener saw nothing" },
  { id: "metadata-169.254.169.254", attempt: "no proxy: 169.254.169.254:80", expected: "fails" },
  { id: "ipv6", attempt: "no proxy: an IPv6 address", expected: "fails" },
  { id: "dns-a-other-name", attempt: "DNS: A query for a name other than proxy.internal", expected: "NXDOMAIN" },
  { id: "dns-exfil-non-a", attempt: "DNS: TXT, MX and AAAA for a crafted name under a test domain", expected: "the test resolver saw none of them" },
  { id: "dns-direct-resolver", attempt: "DNS: a direct query to the test resolver's address", expected: "no answer; the resolver saw nothing" },
  { id: "gateway-api-expose", attempt: "gvproxy's gateway API: expose a guest port on 127.0.0.1", expected: "nothing new reachable on the host" },
  { id: "git-clone", attempt: "control: git clone of the upstream's URL (the git gate serves it)", expected: "the upstream's files" },
  { id: "git-push-allowed", attempt: "control: git push of a clean commit to an allowed branch", expected: "lands upstream" },
  { id: "git-push-secret", attempt: "a secret pushed through the git gate", expected: "refused before any upstream contact" },
  { id: "live-allowlist-edit", attempt: "control: a blocked host after a live egress.allow edit (bottle watch)", expected: "200 from the host, pipelock not restarted" },
];

export interface HostCheck {
  ok: boolean;
  note: string;
}

export function buildRows(results: ReadonlyMap<string, ProbeResult>, host: ReadonlyMap<string, HostCheck>): Row[] {
  return ROWS.map(({ id, attempt, expected }) => {
    const probe = results.get(id);
    const check = host.get(id);
    const observed = [probe ? probe.observed : "the probe never reported it", check?.note].filter(Boolean).join("; ");
    return { id, attempt, expected, observed, pass: Boolean(probe?.ok) && (check?.ok ?? true) };
  });
}

/** attempt | expected | result | observed (last, so it is never cut). */
export function formatTable(rows: readonly Row[]): string {
  const header = ["attempt", "expected", "result", "observed"];
  const cells = rows.map((r) => [r.attempt, r.expected, r.pass ? "pass" : "FAIL", r.observed]);
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => [...c.slice(0, 3).map((cell, i) => cell.padEnd(widths[i]!)), c[3]].join(" | ");
  return [line(header), [...widths.map((w) => "-".repeat(w)), "--------"].join("-|-"), ...cells.map(line)].join("\n");
}
