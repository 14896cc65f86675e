// What a backend gives the CLI: its task graph, which targets each command
// runs, and the lifecycle operations. The CLI knows nothing else about it.
import type { BottleContext } from "../context.js";
import type { Json, TaskDef } from "../graph/index.js";
import type { BottleEntry } from "../app/registry.js";
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
}
