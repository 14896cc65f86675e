// Which requests pipelock refused, read from its own JSON log lines (checked
// against the pinned binary, 408651293dfc):
//   {"event":"blocked","method":"GET","url":"http://h/","scanner":"allowlist","reason":"domain not in allowlist: h","request_id":"req-2",...}
//   {"event":"blocked","method":"CONNECT","target":"h:443","scanner":"allowlist",...}
//   {"event":"blocked",...,"scanner":"ssrf","reason":"SSRF blocked: h resolves to internal IP 127.0.0.1"}
//   {"event":"blocked",...,"url":"http://h/[redacted]","scanner":"dlp","reason":"known secret leak detected"}
//   {"event":"blocked",...,"url":"https://h:443/[redacted]","scanner":"header_dlp"|"body_dlp",...}   HTTPS, opened by pipelock
//   {"event":"header_dlp"|"body_dlp","url":"http://h/leak","action":"block","patterns":[...],"request_id":"req-9",...}
// A plain-HTTP request refused for a header or its body gets only the
// second kind (with its whole URL: only the host is kept here); when
// pipelock also logs `blocked` for it, that line follows, with the same
// request_id, and is not counted twice. Inside one HTTPS tunnel every
// request shares the tunnel's request_id, and each refusal is a `blocked`
// line of its own: those all count.
import type { BlockedRecord, RefusalKind } from "./records.js";
import { parsePipelockLine, type PipelockEvent } from "../pipelock-log.js";

/** The credential injector as pipelock sees it: the random name it is reached by, and the hosts it injects for. */
export interface InjectorView {
  name: string;
  hosts: readonly string[];
}

const KIND_BY_SCANNER: Readonly<Record<string, RefusalKind>> = {
  allowlist: "not-allowlisted",
  dlp: "dlp",
  header_dlp: "dlp",
  body_dlp: "dlp",
  core_dlp: "dlp",
  ssrf: "ssrf",
  core_ssrf: "ssrf",
};

/** How many DLP events are remembered, waiting for a `blocked` line of the same request. */
const PENDING_LIMIT = 1024;
const MAX_REASON = 300;
const MAX_HOST = 253;

export class RefusalReader {
  /** request_ids recorded from a header_dlp/body_dlp event: the `blocked` line that may follow is the same refusal. */
  private readonly recordedFromDlp = new Set<string>();

  constructor(private readonly injector: InjectorView | null) {}

  /** The record for one line of pipelock's log; null when it is no refusal, or one already recorded. */
  line(text: string): BlockedRecord | null {
    const event = parsePipelockLine(text.trim());
    if (event === null) return null;
    const requestId = typeof event.request_id === "string" ? event.request_id : null;
    if (event.event === "blocked") {
      if (requestId !== null && this.recordedFromDlp.delete(requestId)) return null;
      return this.record(event, stringField(event, "scanner") ?? "unknown", stringField(event, "reason") ?? "");
    }
    if ((event.event === "header_dlp" || event.event === "body_dlp") && event.action === "block") {
      if (requestId !== null) this.remember(requestId);
      const rules = patterns(event);
      // Not the header's name: the guest chose it, and pipelock scans names too (a secret can be one).
      const what = event.event === "header_dlp" ? "request header contains secret" : "request body contains secret";
      return this.record(event, event.event, rules.length ? `${what}: ${rules.join(", ")}` : what, rules);
    }
    return null;
  }

  private remember(requestId: string): void {
    this.recordedFromDlp.add(requestId);
    if (this.recordedFromDlp.size > PENDING_LIMIT) this.recordedFromDlp.delete(this.recordedFromDlp.values().next().value!);
  }

  private record(event: PipelockEvent, scanner: string, rawReason: string, rules = rulesInReason(rawReason)): BlockedRecord {
    const where = destination(event);
    const cleanScanner = clean(scanner).replace(/[^a-z0-9_-]/gi, "").toLowerCase() || "unknown";
    let host = where.host;
    let port = where.port;
    let injected = false;
    let reason = redactQuoted(clean(rawReason));
    if (this.injector && host === this.injector.name) {
      // The name must never be shown: whoever knows it reaches this host's loopback through pipelock.
      host = this.injectedHost(where.firstSegment);
      // The injector sends it on over HTTPS.
      port = 443;
      injected = true;
    }
    // Wherever pipelock's reason names it, too.
    if (this.injector) reason = reason.split(this.injector.name).join(injected ? host : "(bottle's injector)");
    if (cleanScanner === "subdomain_entropy") host = redactLabels(host, rawReason);
    return {
      time: eventTime(event),
      host: clean(host).slice(0, MAX_HOST) || "(unknown)",
      port,
      method: methodOf(event),
      kind: KIND_BY_SCANNER[cleanScanner] ?? cleanScanner,
      scanner: cleanScanner,
      reason: reason.slice(0, MAX_REASON),
      ...(rules.length ? { rules: rules.map((rule) => clean(rule).slice(0, 100)) } : {}),
      ...(injected ? { injected: true as const } : {}),
    };
  }

  /**
   * The real host of a request the injector sent: its URL's path starts
   * with it (`/api.anthropic.com/v1/...`) unless pipelock redacted the path
   * (a DLP hit in the URL); then, when the injector serves one host, that one.
   */
  private injectedHost(firstSegment: string | null): string {
    const hosts = this.injector!.hosts;
    const named = firstSegment?.toLowerCase();
    if (named !== undefined && hosts.includes(named)) return named;
    if (hosts.length === 1) return hosts[0]!;
    return hosts.length ? `one of ${[...hosts].sort().join(", ")}` : "(an injected host)";
  }
}

function stringField(event: PipelockEvent, field: string): string | undefined {
  const value = event[field];
  return typeof value === "string" ? value : undefined;
}

/** The host and port a request was for, and its URL's first path segment (never more of the URL). */
function destination(event: PipelockEvent): { host: string; port: number | null; firstSegment: string | null } {
  const url = stringField(event, "url");
  if (url !== undefined) {
    try {
      const parsed = new URL(url);
      const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : parsed.protocol === "http:" ? 80 : null;
      const segment = parsed.pathname.split("/")[1] ?? "";
      return { host: parsed.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, ""), port, firstSegment: segment === "" || segment === "[redacted]" ? null : segment };
    } catch {
      // pipelock logs `[redacted-url]` for a URL it could not parse.
    }
  }
  const target = stringField(event, "target");
  const authority = target === undefined ? null : /^(\[[^\]]*\]|[^:/]+)(?::(\d{1,5}))?$/.exec(target);
  if (authority) return { host: authority[1]!.replace(/^\[|\]$/g, "").replace(/\.$/, ""), port: authority[2] ? Number(authority[2]) : 443, firstSegment: null };
  return { host: "", port: null, firstSegment: null };
}

function methodOf(event: PipelockEvent): string {
  const method = stringField(event, "method") ?? "";
  return /^[A-Z]{1,16}$/.test(method) ? method : "?";
}

function eventTime(event: PipelockEvent): string {
  const time = stringField(event, "time");
  if (time !== undefined && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(time)) return time;
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function patterns(event: PipelockEvent): string[] {
  return Array.isArray(event.patterns) ? event.patterns.filter((p): p is string => typeof p === "string") : [];
}

/** The DLP rules a `blocked` reason names: `request body contains secret: A, B` and `DLP match: A (severity)`. */
function rulesInReason(reason: string): string[] {
  const body = /^request body contains secret: (.+)$/.exec(reason);
  if (body) return body[1]!.split(", ").filter(Boolean);
  const match = /^DLP match: (.+) \([a-z]+\)$/.exec(reason);
  return match ? [match[1]!] : [];
}

/** Without control characters (a terminal shows these lines): pipelock's own log keeps tabs and newlines. */
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").trim();
}

/** pipelock quotes what it saw in the request (`high entropy query param "q"`): that may be the secret itself. */
function redactQuoted(reason: string): string {
  return reason.replace(/"(?:[^"\\]|\\.)*"/g, '"[redacted]"');
}

/** The subdomain-entropy scanner refuses a host for a label that may be an encoded secret: that label is not kept. */
function redactLabels(host: string, reason: string): string {
  const quoted = [...reason.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.toLowerCase());
  return host
    .split(".")
    .map((label) => (quoted.includes(label.toLowerCase()) ? "[redacted]" : label))
    .join(".");
}
