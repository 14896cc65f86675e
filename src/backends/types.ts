// What a backend gives the CLI: its task graph, which targets each command
// runs, and the lifecycle operations. The CLI knows nothing else about it.
import type { BottleContext } from "../context.js";
import type { Json, TaskDef } from "../graph/index.js";
import type { BottleEntry } from "../registry.js";
import type { EngineEvent } from "../graph/index.js";
import type { HostSource } from "../config/egress-presets.js";

export interface LaunchView {
  onEvent(event: EngineEvent): void;
  /** Stops drawing so the agent can have the terminal. */
  release(): Promise<void>;
  finished(): Promise<void>;
}

export interface LaunchRequest {
  ctx: BottleContext;
  mode: "launch" | "resume";
  unsafeNoJail: boolean;
  view: LaunchView;
  lockTimeoutMs: number;
  say(message: string): void;
  /** Runs beside the agent once it is attached (launch --watch). */
  beside?: (signal: AbortSignal) => Promise<void>;
}

export interface RanTask {
  task: string;
  /** Why it ran, in words (`input \`agent.env.A\` changed`). */
  reasons: string[];
}

/** A running bottle's git gate, as `ls` shows it: its port and each remote's upstream. */
export interface GitGateSummary {
  port: number;
  remotes: { name: string; upstream: string }[];
}

/** One allowed host of the proxy, with where the config says it (none: the rendered file is stale, or it is a placeholder; `note` says which). */
export interface PolicyHost {
  host: string;
  from: HostSource[];
  note?: string;
  /** Why the host takes writes from anyone, when it does. */
  writeAnywhere?: string;
}

/** A setting as the rendered file has it, with what it means where bottle knows. */
export interface PolicySetting {
  key: string;
  value: unknown;
  means?: string;
}

/** What a bottle's rendered files enforce, and whether the running bottle has loaded them: `bottle policy`. */
export interface EffectivePolicy {
  proxy: {
    /** The program and its rendered config. */
    program: string;
    file: string;
    /** Hex sha256 of the file's bytes. */
    sha256: string;
    /** Everything the file says, parsed (keys bottle does not know yet included). */
    settings: Record<string, unknown>;
    /** How the proxy treats a host that is not allowed. */
    mode: string;
    allow: PolicyHost[];
    /** Whether HTTPS is decrypted and scanned, and the hosts whose bodies are not (passthrough). */
    tls: { intercepted: boolean; passthrough: string[]; settings: PolicySetting[] };
    /** Address ranges never dialled, whatever a name resolves to. */
    ssrf: string[];
    dlp: PolicySetting[];
    /** Top-level settings shown nowhere above. */
    other: PolicySetting[];
  };
  gitGate: { kind: "builtin"; file: string; remotes: { name: string; url: string; token: string; push: string[]; allowForcePush: boolean; allowDelete: boolean }[] } | { kind: "sidecar"; file: string; command: string[] } | null;
  /** The tasks whose outputs the policy was read from (a stale one means the files lag the config). */
  renderedBy: string[];
  running:
    | { state: "not running" }
    | { state: "running elsewhere"; pid: number; stageDir: string }
    | { state: "running"; pid: number; log: string; loadedHash: string | null; loaded: "this policy" | "another policy" | "unknown"; why?: string };
}

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

/** A bottle's logs, one source per <stage>/logs/<source>.log (`bottle logs`). */
export interface BottleLogs {
  dir: string;
  sources: { name: string; path: string }[];
  /**
   * While the bottle runs: resolves when it has stopped (or `signal` aborts).
   * Null when it is not running.
   */
  untilStopped: ((signal: AbortSignal) => Promise<void>) | null;
}

export interface Backend {
  readonly name: string;
  readonly tasks: readonly TaskDef<BottleContext>[];
  /** What `bottle build` renders. */
  readonly buildTargets: readonly string[];
  /** A warning for the build summary from the tasks' results, e.g. missing binaries; null when none. */
  buildWarning(results: Readonly<Record<string, Json>>): string | null;
  /** Runs the launch graph and the agent; resolves with the exit code. */
  launch(request: LaunchRequest): Promise<number>;
  /** A bottle's state; "refused" (with why) when its registry entry or run dir cannot be trusted, so one bad entry never hides the others. */
  state(entry: BottleEntry): Promise<{
    state: "running" | "stopped" | "stale" | "refused";
    why?: string;
    pid?: number;
    ports?: Record<string, number>;
    /** The running bottle's git gate: its port and each remote's upstream. */
    gitGate?: GitGateSummary;
  }>;
  stop(entry: BottleEntry, say: (line: string) => void): Promise<void>;
  /**
   * Watch mode, after a run re-rendered `ran` (each with the reasons it ran)
   * while the bottle may be running: apply what can be applied live; return
   * one line per change.
   */
  applyLive?(ctx: BottleContext, ran: readonly RanTask[]): Promise<string[]>;
  remove(entry: BottleEntry, say: (line: string) => void): Promise<void>;
  /** The effective policy: read from the rendered files (a BottleError when they are not rendered yet). */
  policy(ctx: BottleContext): Promise<EffectivePolicy>;
  /** What pipelock refused in the running or last session, read from the stage (never evaluates the config). */
  blocked(entry: BottleEntry): Promise<BlockedReport>;
  /** The bottle's log files, and how to tell when the running bottle stops. */
  logs(entry: BottleEntry): Promise<BottleLogs>;
}
