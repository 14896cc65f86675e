// A short program run outside a launch, for its answer: a tool's version,
// the jail probe, `pipelock tls init`. (A launch's own children go through
// the supervisor.) Never rejects: the result says how it ended.
import { execFile, execFileSync } from "node:child_process";

export interface ShortRunResult {
  /** Its exit code; null when it was killed, timed out or never started. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Why it could not start (ENOENT, EACCES: the message), or null. */
  spawnError: string | null;
}

export interface ShortRunOptions {
  timeoutMs: number;
  /** The whole environment it gets; the caller's when absent. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** The most output kept of each stream. */
  maxBuffer?: number;
}

/** A probe whose answer is needed at once (`sysctl -n kern.hv_support`): its stdout, or null when it could not run or failed. */
export function shortAnswerSync(command: string, args: readonly string[], timeoutMs: number): string | null {
  try {
    return execFileSync(command, [...args], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
}

export function runShort(command: string, args: readonly string[], options: ShortRunOptions): Promise<ShortRunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { timeout: options.timeoutMs, encoding: "utf8", maxBuffer: options.maxBuffer ?? 1024 * 1024, ...(options.env ? { env: options.env } : {}), ...(options.signal ? { signal: options.signal } : {}) },
      (error, stdout, stderr) => {
        const code = error?.code;
        resolve({
          exitCode: error === null ? 0 : typeof code === "number" ? code : null,
          stdout,
          stderr,
          timedOut: error?.killed === true && options.signal?.aborted !== true,
          spawnError: error?.syscall?.startsWith("spawn") ? error.message : null,
        });
      },
    );
  });
}
