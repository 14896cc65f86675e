// Wall-clock timing of whole processes (spawn to exit) and the median.
import { spawnSync } from "node:child_process";

export interface Timed {
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

export function timeProcess(command: string, args: readonly string[]): Timed {
  const started = performance.now();
  const child = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (child.error) throw child.error;
  return { ms, status: child.status, stdout: child.stdout, stderr: child.stderr };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
