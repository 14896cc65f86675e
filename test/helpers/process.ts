// Child processes for tests, and waiting on what they print.
import { spawn, type ChildProcess } from "node:child_process";

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
