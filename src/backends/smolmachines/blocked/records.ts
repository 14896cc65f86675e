// What the refusal record holds: one BlockedRecord per request pipelock
// refused (<stage>/blocked.jsonl), tallied per host and reason, and the
// report `bottle blocked` prints.

/** Why pipelock refused a request: its allowlist, DLP (URL, header or body), SSRF, or another scanner (its name). */
export type RefusalKind = "not-allowlisted" | "dlp" | "ssrf" | (string & {});

/** One request pipelock refused, as <stage>/blocked.jsonl keeps it: never a URL's path or query, never a secret. */
export interface BlockedRecord {
  /** When pipelock refused it (ISO 8601, UTC). */
  time: string;
  /** The host asked for; for a request bottle's credential injector sent, the real host it was for. */
  host: string;
  port: number | null;
  method: string;
  kind: RefusalKind;
  /** pipelock's scanner name (`allowlist`, `dlp`, `header_dlp`, `body_dlp`, `ssrf`, `entropy`, ...). */
  scanner: string;
  /** pipelock's reason, with anything quoted from the request redacted. */
  reason: string;
  /** For DLP: the rules that matched, when pipelock names them. */
  rules?: string[];
  /** Sent through bottle's credential injector. */
  injected?: true;
}

/** The refusals of one host for one reason, and what the config could say to allow it. */
export interface RefusedHost {
  host: string;
  kind: RefusalKind;
  count: number;
  ports: number[];
  methods: string[];
  /** DLP rules that matched, over all its refusals. */
  rules: string[];
  first: string;
  last: string;
  /** The last reason pipelock gave. */
  reason: string;
  injected: boolean;
  /** The config edit that would allow it (only for a host refused as not allowlisted that egress.allow may name). */
  allow?: { edit: string; command: string; warning?: string };
  /** Why no edit is offered. */
  noEdit?: string;
}

/** What pipelock refused in a bottle's running or last session (`bottle blocked`). */
export interface BlockedReport {
  /** <stage>/blocked.jsonl. */
  file: string;
  /** The session is still running (the file still grows). */
  running: boolean;
  /** False when there is no record (the bottle never ran since bottle keeps one). */
  recorded: boolean;
  records: BlockedRecord[];
  /** Per host and reason, most refused first. */
  hosts: RefusedHost[];
  /** What launch prints at teardown, for this session; empty when nothing was refused. */
  summary: string[];
}
