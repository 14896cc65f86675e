// One error type, as execa has one: a BottleError is a failure the user can
// fix or act on (bad config, a missing binary, a busy port, a program that
// failed). Its `code` says which, its exit code follows from the code, its
// `detail` carries what a caller may need (typed by the code), and `cause`
// keeps the error underneath. Callers branch on the code, never on the
// message. Anything else that escapes is a bug in bottle and is reported as
// one (exit 70).

export const EXIT_OK = 0;
/** A task, step, program or the agent failed. */
export const EXIT_FAILED = 1;
/** Bad usage, bad config or an unsafe directory: nothing was done. */
export const EXIT_USAGE = 2;
/** A bug in bottle. */
export const EXIT_BUG = 70;
/** Interrupted by a signal (Ctrl-C). */
export const EXIT_INTERRUPTED = 130;

/** Each code and the exit code it means. */
const EXIT_CODES = {
  /** The command line asks for something bottle cannot do. */
  usage: EXIT_USAGE,
  /** The config is invalid: detail names the file and each problem. */
  config: EXIT_USAGE,
  /** A directory or file bottle uses could be another user's, or is a symlink or worse: bottle refuses to use it. */
  "unsafe-path": EXIT_USAGE,
  /** A program bottle needs is not installed (or not where bottle may run it from). */
  "missing-tool": EXIT_FAILED,
  /** A program bottle ran failed; the message carries what it said. */
  "tool-failed": EXIT_FAILED,
  /** Another bottle process holds the stage dir. */
  "stage-busy": EXIT_FAILED,
  /** The bottle is already running. */
  "already-running": EXIT_FAILED,
  /** A sidecar's port was taken by another process between allocation and start. */
  "port-taken": EXIT_FAILED,
  /** A process did not become ready (it exited first, or the wait ran out). */
  "not-ready": EXIT_FAILED,
  /** Stopped by a signal before it could finish. */
  interrupted: EXIT_INTERRUPTED,
  /** Any other failure the user can act on; the message says what to do. */
  failed: EXIT_FAILED,
  /** The task graph itself is wrong (a cycle, a missing task): bottle's own graph, so a bug. */
  "invalid-graph": EXIT_BUG,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

/** What an error of each code carries besides its message. */
export interface ErrorDetails {
  config: { file: string; problems: readonly { path: string; message: string }[] };
  "stage-busy": { path: string; holder: { pid: number; command: string; since: number } | null; waitedMs: number };
  "port-taken": { sidecar: string; port: number };
  "tool-failed": { program: string; args: readonly string[]; exitCode: number | null; stderr: string };
  "not-ready": { exited: { code: number | null; signal: string | null } | null };
}
// The engine adds "invalid-graph"'s detail (graph/analyze.ts): its problems are the engine's type.

export type ErrorDetail<C extends ErrorCode> = C extends keyof ErrorDetails ? ErrorDetails[C] : undefined;

/** The options a code takes: its detail where it has one, and the cause. */
type ErrorOptions<C extends ErrorCode> = C extends keyof ErrorDetails ? [options: { detail: ErrorDetails[C]; cause?: unknown }] : [options?: { cause?: unknown }];

export class BottleError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = "BottleError";
  readonly code: C;
  readonly detail: ErrorDetail<C>;

  constructor(code: C, message: string, ...[options]: ErrorOptions<C>) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = (options && "detail" in options ? options.detail : undefined) as ErrorDetail<C>;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isBottleError<C extends ErrorCode>(error: unknown, code: C): error is BottleError<C> {
  return error instanceof BottleError && error.code === code;
}

export function usageError(message: string): BottleError<"usage"> {
  return new BottleError("usage", message);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The end of an exhaustive switch: a new case that is not handled fails to compile. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
