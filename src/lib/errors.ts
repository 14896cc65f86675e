// Two kinds of failure, as in changesets: a BottleError is something the
// user can fix (bad config, missing binary, busy port) and carries the exit
// code to use; anything else is a bug in bottle and is reported as one.

export const EXIT_OK = 0;
/** A task, step or the agent failed. */
export const EXIT_FAILED = 1;
/** Bad usage or bad config: nothing was done. */
export const EXIT_USAGE = 2;
/** Interrupted by a signal (Ctrl-C). */
export const EXIT_INTERRUPTED = 130;

export class BottleError extends Error {
  override readonly name = "BottleError";
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT_FAILED;
  }
}

export function usageError(message: string): BottleError {
  return new BottleError(message, { exitCode: EXIT_USAGE });
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The end of an exhaustive switch: a new case that is not handled fails to compile. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
