// What pipelock refused, per host and reason, and what (if anything) the
// config could say to allow it. Pure: launch prints it at teardown, `bottle
// blocked` for the running or last session. It never allows anything.
import type { BlockedRecord, RefusedHost } from "./records.js";
import { egressHostProblem } from "../../../config/egress-host.js";
import { writeAnywhereMatch } from "../../../config/egress-presets.js";
import { shellQuote } from "../../../lib/shell-quote.js";

/** Adds up refusals per host and reason, as they come (launch keeps only this, not every record). */
export class RefusalTally {
  private readonly byKey = new Map<string, RefusedHost>();
  private total = 0;

  add(record: BlockedRecord): void {
    this.total++;
    const key = `${record.host}\0${record.kind}`;
    const seen = this.byKey.get(key);
    if (!seen) {
      this.byKey.set(key, {
        host: record.host,
        kind: record.kind,
        count: 1,
        ports: record.port === null ? [] : [record.port],
        methods: [record.method],
        rules: [...(record.rules ?? [])],
        first: record.time,
        last: record.time,
        reason: record.reason,
        injected: record.injected === true,
      });
      return;
    }
    seen.count++;
    if (record.port !== null && !seen.ports.includes(record.port)) seen.ports.push(record.port);
    if (!seen.methods.includes(record.method)) seen.methods.push(record.method);
    for (const rule of record.rules ?? []) if (!seen.rules.includes(rule)) seen.rules.push(rule);
    if (record.time < seen.first) seen.first = record.time;
    if (record.time >= seen.last) {
      seen.last = record.time;
      seen.reason = record.reason;
    }
  }

  get requests(): number {
    return this.total;
  }

  /** Most refused first; each with the edit that would allow it, or why there is none. */
  hosts(bottle: string): RefusedHost[] {
    return [...this.byKey.values()]
      .map((host) => ({ ...host, ports: [...host.ports].sort((a, b) => a - b), ...advice(host, bottle) }))
      .sort((a, b) => b.count - a.count || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) || (a.kind < b.kind ? -1 : 1));
  }
}

function advice(host: RefusedHost, bottle: string): Pick<RefusedHost, "allow" | "noEdit"> {
  switch (host.kind) {
    case "not-allowlisted": {
      const problem = egressHostProblem(host.host);
      if (problem) return { noEdit: `egress.allow cannot name it: \`${host.host}\` ${problem}` };
      const risky = writeAnywhereMatch(host.host);
      return {
        allow: {
          edit: `egress.allow: add ${JSON.stringify(host.host)}`,
          command: `bottle allow ${shellQuote(bottle)} ${shellQuote(host.host)}`,
          ...(risky ? { warning: `${risky.domain} takes writes from anyone (${risky.why}): an agent allowed it can send out whatever it reads` } : {}),
        },
      };
    }
    case "dlp":
      return { noEdit: "DLP refused what the request carried (it looks like a secret), whatever its host: allowing a host does not change that" };
    case "ssrf": {
      if (/DNS resolution error/.test(host.reason)) return { noEdit: "pipelock could not resolve it, and it refuses what it cannot check: no config edit helps (is the name right?)" };
      const address = /internal IP (\S+)/.exec(host.reason)?.[1];
      return { noEdit: `it resolves to an internal address${address ? ` (${address})` : ""}, which pipelock never dials, whatever the allowlist says` };
    }
    default:
      return { noEdit: `pipelock's ${host.kind} check refused it, not the allowlist (${host.reason || "no reason given"})` };
  }
}

const KIND_WORDS: Readonly<Record<string, string>> = { "not-allowlisted": "not allowlisted", dlp: "DLP", ssrf: "SSRF" };

function what(host: RefusedHost): string {
  const details = [
    host.injected ? "via the credential injector" : "",
    host.rules.length ? host.rules.join(", ") : "",
    host.kind === "not-allowlisted" || host.kind === "ssrf" ? host.methods.join(", ") : "",
    host.ports.length ? `port${host.ports.length > 1 ? "s" : ""} ${host.ports.join(", ")}` : "",
  ].filter(Boolean);
  return `${KIND_WORDS[host.kind] ?? host.kind}${details.length ? ` (${details.join("; ")})` : ""}`;
}

/** When a session's refusals happened, to the second, in UTC. */
function span(hosts: readonly RefusedHost[]): string {
  const first = hosts.map((h) => h.first).sort()[0]!;
  const last = hosts.map((h) => h.last).sort().at(-1)!;
  const show = (time: string) => time.replace("T", " ").replace(/(\.\d+)?Z$/, "");
  return first === last ? `at ${show(first)} UTC` : `from ${show(first)} to ${show(last).slice(first.slice(0, 10) === last.slice(0, 10) ? 11 : 0)} UTC`;
}

export interface SummaryContext {
  bottle: string;
  config: string;
  /** How the session is named in the first line: "this session", "the running session", "the last session". */
  session: string;
}

/** The summary's lines; none when nothing was refused. */
export function refusalSummary(requests: number, hosts: readonly RefusedHost[], context: SummaryContext): string[] {
  if (requests === 0) return [];
  const names = new Set(hosts.map((h) => h.host)).size;
  const lines = [`pipelock refused ${plural(requests, "request")} to ${plural(names, "host")} in ${context.session} of ${context.bottle}, ${span(hosts)}:`];
  const width = Math.max(...hosts.map((h) => h.host.length));
  const countWidth = Math.max(...hosts.map((h) => String(h.count).length));
  for (const host of hosts) lines.push(`  ${host.host.padEnd(width)}  ${`${host.count}`.padStart(countWidth)}×  ${what(host)}`);
  const allowable = hosts.filter((h) => h.allow);
  if (allowable.length) {
    lines.push(`to allow a host refused as not allowlisted, edit ${context.config} (bottle allows nothing by itself):`);
    const hostWidth = Math.max(...allowable.map((h) => h.host.length));
    const editWidth = Math.max(...allowable.map((h) => h.allow!.edit.length));
    for (const { host, allow } of allowable) {
      lines.push(`  ${host.padEnd(hostWidth)}  ${allow!.edit.padEnd(editWidth)}  or run: ${allow!.command}`);
      if (allow!.warning) lines.push(`    warning: ${allow!.warning}`);
    }
  }
  const noEdit = hosts.filter((h) => h.noEdit);
  if (noEdit.length) {
    lines.push("no edit is offered for:");
    for (const host of noEdit) lines.push(`  ${host.host} (${KIND_WORDS[host.kind] ?? host.kind}): ${host.noEdit}`);
  }
  return lines;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
