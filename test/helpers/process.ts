// Child processes for tests, and waiting on what they print or write.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, watch } from "node:fs";
import { dirname } from "node:path";

/**
 * `promise`, or a rejection naming `what` once `ms` have passed: a safety
 * net for a test that waits on a real signal. `onTimeout` runs first (to
 * kill what is stuck) and may return more to say.
 */
export function withTimeout<T>(promise: Promise<T>, what: string, ms: number, onTimeout?: () => string | void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}${onTimeout?.() ?? ""}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "pipe"], env });
}

/** Resolves with everything printed so far once `text` appears on stdout; rejects if the process exits first. */
export function waitForOutput(child: ChildProcess, text: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => finish(new Error(`timed out waiting for "${text}"; got: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (seen.includes(text)) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`exited (${code}) before printing "${text}"; got: ${seen}`));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(seen);
    };
    child.stdout!.on("data", onData);
    child.on("exit", onExit);
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode, stdout });
    else child.on("exit", (code, signal) => resolve({ code, signal, stdout }));
  });
}

/**
 * Resolves true once `path` exists and holds `text`; false if `exited`
 * settles first (the process that would write it is gone) or, as a safety
 * net only, after `timeoutMs`.
 */
export function fileHoldsBefore(path: string, text: string, exited: Promise<unknown>, timeoutMs = 90_000): Promise<boolean> {
  const holds = () => existsSync(path) && readFileSync(path, "utf8").includes(text);
  return new Promise((resolve) => {
    mkdirSync(dirname(path), { recursive: true });
    const watcher = watch(dirname(path), () => holds() && done(true));
    const timer = setTimeout(() => done(holds()), timeoutMs);
    void exited.then(() => done(holds()));
    function done(ok: boolean): void {
      clearTimeout(timer);
      watcher.close();
      resolve(ok);
    }
    if (holds()) done(true);
  });
}
