// Proves how pipelock's log lines become the records of blocked.jsonl and
// the summary: one record per refused request (a DLP event and the
// `blocked` line of the same request count once; each refusal inside one
// HTTPS tunnel counts), the reason kinds, never a URL's path or query, the
// injector's random name replaced by the real host (from the path, or the
// one host it serves when pipelock redacted the path), what pipelock quotes
// from a request redacted, control characters dropped; and the summary's
// edits: one for a host refused as not allowlisted, none (with why) for
// DLP, SSRF, another scanner, or a host egress.allow cannot name.
// The lines are the shapes the real pipelock writes (408651293dfc);
// blocked-real-pipelock.test.ts checks them against the binary.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BlockedRecord } from "../src/backends/smolmachines/blocked/records.js";
import { RefusalReader } from "../src/backends/smolmachines/blocked/refusals.js";
import { RefusalTally, refusalSummary } from "../src/backends/smolmachines/blocked/summary.js";

const NAME = "0123456789abcdef0123456789abcdef.inject.bottle.invalid";
const T = "2026-12-06T07:03:03Z";
const line = (fields: Record<string, unknown>): string => JSON.stringify({ level: "warn", component: "pipelock", ...fields, time: T });

function read(lines: string[], injector: { name: string; hosts: string[] } | null = null): BlockedRecord[] {
  const reader = new RefusalReader(injector);
  return lines.flatMap((text) => {
    const record = reader.line(text);
    return record ? [record] : [];
  });
}

test("each shape pipelock logs for a refusal becomes one record: host, port, method, kind, reason; never the path or query", () => {
  const records = read([
    line({ event: "startup", config_hash: "a".repeat(64) }),
    line({ event: "blocked", method: "GET", url: "http://blocked.test/some/path?q=1", scanner: "allowlist", reason: "domain not in allowlist: blocked.test", request_id: "req-1" }),
    line({ event: "blocked", method: "CONNECT", target: "blocked.test:443", scanner: "allowlist", reason: "domain not in allowlist: blocked.test", request_id: "req-2" }),
    line({ event: "blocked", method: "GET", url: "http://h1.test/x", scanner: "ssrf", reason: "SSRF blocked: h1.test resolves to internal IP 127.0.0.1", request_id: "req-3" }),
    line({ event: "blocked", method: "GET", url: "http://allowed.test/[redacted]", scanner: "dlp", reason: "known secret leak detected", request_id: "req-4" }),
    line({ event: "blocked", method: "GET", url: "https://allowed.test:443/[redacted]", scanner: "header_dlp", reason: "request header contains secret", request_id: "req-5" }),
    line({ event: "blocked", method: "POST", url: "https://allowed.test:8443/[redacted]", scanner: "body_dlp", reason: "request body contains secret: Known Secret Leak", request_id: "req-6" }),
    line({ event: "header_dlp", method: "GET", url: "http://allowed.test/leak?token=abc", header: "X-Leak", action: "block", patterns: ["Known Secret Leak"], request_id: "req-8" }),
    line({ event: "body_dlp", method: "POST", url: "http://allowed.test/leak", action: "block", match_count: 1, patterns: ["Known Secret Leak"], request_id: "req-9" }),
    line({ event: "header_dlp", method: "GET", url: "http://allowed.test/warned", header: "X-Leak", action: "warn", patterns: ["Known Secret Leak"], request_id: "req-10" }),
    line({ event: "anomaly", method: "CONNECT", target: "allowed.test:443", scanner: "tls_intercept", reason: "TLS MITM interception active", request_id: "req-11" }),
    line({ event: "error", method: "CONNECT", target: "x.test:9", error: "dial tcp 127.0.0.1:9: connect: connection refused", request_id: "req-12" }),
    "pipelock: config reload failed: nope",
  ]);
  assert.equal(
    records.map(({ host, port, method, kind, scanner, reason, rules }) => ({ host, port, method, kind, scanner, reason, ...(rules ? { rules } : {}) })),
    [
      { host: "blocked.test", port: 80, method: "GET", kind: "not-allowlisted", scanner: "allowlist", reason: "domain not in allowlist: blocked.test" },
      { host: "blocked.test", port: 443, method: "CONNECT", kind: "not-allowlisted", scanner: "allowlist", reason: "domain not in allowlist: blocked.test" },
      { host: "h1.test", port: 80, method: "GET", kind: "ssrf", scanner: "ssrf", reason: "SSRF blocked: h1.test resolves to internal IP 127.0.0.1" },
      { host: "allowed.test", port: 80, method: "GET", kind: "dlp", scanner: "dlp", reason: "known secret leak detected" },
      { host: "allowed.test", port: 443, method: "GET", kind: "dlp", scanner: "header_dlp", reason: "request header contains secret" },
      { host: "allowed.test", port: 8443, method: "POST", kind: "dlp", scanner: "body_dlp", reason: "request body contains secret: Known Secret Leak", rules: ["Known Secret Leak"] },
      { host: "allowed.test", port: 80, method: "GET", kind: "dlp", scanner: "header_dlp", reason: "request header contains secret: Known Secret Leak", rules: ["Known Secret Leak"] },
      { host: "allowed.test", port: 80, method: "POST", kind: "dlp", scanner: "body_dlp", reason: "request body contains secret: Known Secret Leak", rules: ["Known Secret Leak"] },
    ],
  );
  assert.ok(records.every((r) => r.time === T));
  const text = JSON.stringify(records);
  for (const leaked of ["some/path", "q=1", "token=abc", "/leak", "X-Leak"]) assert.not.ok(text.includes(leaked), `${leaked} is not recorded`);
});

test("a DLP event and the `blocked` line pipelock may log after it for the same request are one refusal; refusals inside one HTTPS tunnel (one request_id) each count", () => {
  const records = read([
    line({ event: "body_dlp", method: "POST", url: "http://a.test/x", action: "block", patterns: ["Known Secret Leak"], request_id: "req-1" }),
    line({ event: "blocked", method: "POST", url: "http://a.test/[redacted]", scanner: "body_dlp", reason: "request body contains secret: Known Secret Leak", request_id: "req-1" }),
    line({ event: "blocked", method: "GET", url: "https://b.test:443/[redacted]", scanner: "header_dlp", reason: "request header contains secret", request_id: "req-2" }),
    line({ event: "blocked", method: "GET", url: "https://b.test:443/[redacted]", scanner: "header_dlp", reason: "request header contains secret", request_id: "req-2" }),
  ]);
  assert.equal(
    records.map((r) => `${r.host} ${r.scanner}`),
    ["a.test body_dlp", "b.test header_dlp", "b.test header_dlp"],
  );
});

test("a request bottle's injector sent is recorded for its real host, port 443, never the injector's name", () => {
  const injector = { name: NAME, hosts: ["api.anthropic.com"] };
  const records = read(
    [
      line({ event: "header_dlp", method: "POST", url: `http://${NAME}:40123/api.anthropic.com/v1/messages`, header: "X-Leak", action: "block", patterns: ["Known Secret Leak"], request_id: "req-1" }),
      line({ event: "blocked", method: "POST", url: `http://${NAME}:40123/[redacted]`, scanner: "dlp", reason: "known secret leak detected", request_id: "req-2" }),
      line({ event: "blocked", method: "GET", url: `http://${NAME}:40123/api.anthropic.com/x`, scanner: "ratelimit", reason: `rate limit exceeded for ${NAME}`, request_id: "req-3" }),
      // Another name under .inject.bottle.invalid is only what the agent asked for: not mapped.
      line({ event: "blocked", method: "GET", url: "http://guess.inject.bottle.invalid/evil.test/", scanner: "allowlist", reason: "domain not in allowlist: guess.inject.bottle.invalid", request_id: "req-4" }),
    ],
    injector,
  );
  assert.equal(
    records.map(({ host, port, injected, reason }) => ({ host, port, injected, reason })),
    [
      { host: "api.anthropic.com", port: 443, injected: true, reason: "request header contains secret: Known Secret Leak" },
      { host: "api.anthropic.com", port: 443, injected: true, reason: "known secret leak detected" },
      { host: "api.anthropic.com", port: 443, injected: true, reason: "rate limit exceeded for api.anthropic.com" },
      { host: "guess.inject.bottle.invalid", port: 80, injected: undefined, reason: "domain not in allowlist: guess.inject.bottle.invalid" },
    ],
  );
  assert.not.match(JSON.stringify(records), NAME.slice(0, 32));

  const two = { name: NAME, hosts: ["api.anthropic.com", "api.example.com"] };
  const [fromPath, redacted] = read(
    [
      line({ event: "body_dlp", method: "POST", url: `http://${NAME}:1/api.example.com/v1`, action: "block", patterns: ["x"], request_id: "req-1" }),
      line({ event: "blocked", method: "GET", url: `http://${NAME}:1/[redacted]`, scanner: "dlp", reason: "known secret leak detected", request_id: "req-2" }),
    ],
    two,
  );
  assert.is(fromPath!.host, "api.example.com", "the path names the host");
  assert.is(redacted!.host, "one of api.anthropic.com, api.example.com", "a redacted path with two injected hosts: both named, the random name never");
});

test("what pipelock quotes from a request is redacted (an entropy finding may be the secret), a suspicious subdomain label too, and control characters are dropped", () => {
  const [entropy, subdomain, escape] = read([
    line({ event: "blocked", method: "GET", url: "http://allowed.test/x?Zk3LmQ9xT2vB7nR4=1", scanner: "entropy", reason: 'high entropy query key "Zk3LmQ9xT2vB7nR4" (5.00 > 4.50 threshold)' }),
    line({ event: "blocked", method: "GET", url: "http://aGVsbG8gd29ybGQgc2VjcmV0.files.test/", scanner: "subdomain_entropy", reason: 'high entropy subdomain label "aGVsbG8gd29ybGQgc2VjcmV0" (4.20 > 4.00 threshold)' }),
    line({ event: "blocked", method: "CONNECT", target: "evil.test:443", scanner: "allowlist", reason: "domain not in allowlist: evil.test\u001b[2J" }),
  ]);
  assert.is(entropy!.reason, 'high entropy query key "[redacted]" (5.00 > 4.50 threshold)');
  assert.is(entropy!.kind, "entropy");
  assert.is(subdomain!.host, "[redacted].files.test");
  assert.not.match(JSON.stringify([entropy, subdomain]), "Zk3LmQ9xT2vB7nR4");
  assert.not.match(JSON.stringify([entropy, subdomain]), "aGVsbG8gd29ybGQgc2VjcmV0");
  assert.is(escape!.reason, "domain not in allowlist: evil.test [2J");
});

test("the summary: hosts by how often, the edit for a host refused as not allowlisted (and the command), why none for the rest", () => {
  const tally = new RefusalTally();
  const add = (host: string, kind: string, scanner: string, reason: string, extra: Partial<BlockedRecord> = {}) =>
    tally.add({ time: T, host, port: 443, method: "CONNECT", kind, scanner, reason, ...extra });
  add("blocked.test", "not-allowlisted", "allowlist", "domain not in allowlist: blocked.test");
  add("blocked.test", "not-allowlisted", "allowlist", "domain not in allowlist: blocked.test", { method: "GET", port: 80, time: "2026-12-06T07:04:10Z" });
  add("sentry.io", "not-allowlisted", "allowlist", "domain not in allowlist: sentry.io");
  add("10.1.2.3", "not-allowlisted", "allowlist", "domain not in allowlist: 10.1.2.3");
  add("h1.test", "ssrf", "ssrf", "SSRF blocked: h1.test resolves to internal IP 127.0.0.1", { method: "GET" });
  add("api.anthropic.com", "dlp", "body_dlp", "request body contains secret: Known Secret Leak", { rules: ["Known Secret Leak"], injected: true });
  add("allowed.test", "entropy", "entropy", 'high entropy query param "[redacted]" (5.00 > 4.50 threshold)');
  const hosts = tally.hosts("my-bottle");
  assert.is(tally.requests, 7);
  assert.equal(hosts[0]!.allow, { edit: 'egress.allow: add "blocked.test"', command: "bottle allow my-bottle blocked.test" });
  assert.equal(hosts[0]!.ports, [80, 443]);
  const lines = refusalSummary(tally.requests, hosts, { bottle: "my-bottle", config: "/p/bottle.config.ts", session: "this session" });
  assert.equal(lines, [
    "pipelock refused 7 requests to 6 hosts in this session of my-bottle, from 2026-12-06 07:03:03 to 07:04:10 UTC:",
    "  blocked.test       2×  not allowlisted (CONNECT, GET; ports 80, 443)",
    "  10.1.2.3           1×  not allowlisted (CONNECT; port 443)",
    "  allowed.test       1×  entropy (port 443)",
    "  api.anthropic.com  1×  DLP (via the credential injector; Known Secret Leak; port 443)",
    "  h1.test            1×  SSRF (GET; port 443)",
    "  sentry.io          1×  not allowlisted (CONNECT; port 443)",
    "to allow a host refused as not allowlisted, edit /p/bottle.config.ts (bottle allows nothing by itself):",
    '  blocked.test  egress.allow: add "blocked.test"  or run: bottle allow my-bottle blocked.test',
    '  sentry.io     egress.allow: add "sentry.io"     or run: bottle allow my-bottle sentry.io',
    `    warning: sentry.io takes writes from anyone (${lines[10]!.match(/\((.*)\): an agent/)![1]}): an agent allowed it can send out whatever it reads`,
    "no edit is offered for:",
    "  10.1.2.3 (not allowlisted): egress.allow cannot name it: `10.1.2.3` is an IP address: pipelock would connect to it directly, bypassing the name-based allowlist; allow the host name that serves it",
    '  allowed.test (entropy): pipelock\'s entropy check refused it, not the allowlist (high entropy query param "[redacted]" (5.00 > 4.50 threshold))',
    "  api.anthropic.com (DLP): DLP refused what the request carried (it looks like a secret), whatever its host: allowing a host does not change that",
    "  h1.test (SSRF): it resolves to an internal address (127.0.0.1), which pipelock never dials, whatever the allowlist says",
  ]);
  assert.equal(refusalSummary(0, [], { bottle: "b", config: "/c", session: "this session" }), [], "nothing refused: nothing said");
});

test("an SSRF refusal for a name pipelock could not resolve says so, not that it is internal", () => {
  const tally = new RefusalTally();
  tally.add({ time: T, host: "typo.example.com", port: 443, method: "CONNECT", kind: "ssrf", scanner: "ssrf", reason: "SSRF check failed: DNS resolution error for typo.example.com: lookup typo.example.com: no such host" });
  assert.equal(tally.hosts("b").map((h) => h.noEdit), ["pipelock could not resolve it, and it refuses what it cannot check: no config edit helps (is the name right?)"]);
});

test.run();
