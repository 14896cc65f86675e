// Helpers for suites that drive bottle (or the fakes directly) against the
// contract fakes in test/fixtures/bin. No sleeps: every wait is on a real
// signal (a file appearing, a port accepting, a process exiting), bounded by
// a timeout as a safety net.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, type FSWatcher, watch } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MachineRecord } from "../fixtures/fakes/smolvm/db.js";

export { isAlive } from "../fixtures/fakes/lib/process.js";
export type { MachineRecord } from "../fixtures/fakes/smolvm/db.js";

/** <repo>/test/fixtures/bin (this file runs from dist/test/helpers). */
export const fakesBinDir = fileURLToPath(new URL("../../../test/fixtures/bin/", import.meta.url)).replace(/\/$/, "");

const INJECTION_VARS = ["FAKE_FAIL", "FAKE_HANG", "FAKE_BUSY_SMOLVM", "FAKE_EXEC_EXIT"];

/** The environment for a process that should find the fakes on PATH. Any
 * FAKE_* injection inherited from the caller is dropped; pass it in `extra`. */
export function fakesEnv(stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INJECTION_VARS) delete env[name];
  return { ...env, PATH: `${fakesBinDir}${delimiter}${process.env["PATH"] ?? ""}`, FAKES_STATE: stateDir, ...extra };
}

export function makeStateDir(prefix = "fakes-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as T);
}

export interface SmolvmCall {
  argv: string[];
  pid: number;
  at: number;
}

export function readSmolvmCalls(stateDir: string): SmolvmCall[] {
  return readJsonLines<SmolvmCall>(join(stateDir, "smolvm", "calls.jsonl"));
}

/** The fake smolvm's machine records by name (the DB, not `status`: a
 * record may say running while its VM process has died). */
export function readMachines(stateDir: string): Record<string, MachineRecord> {
  const path = join(stateDir, "smolvm", "machines.json");
  if (!existsSync(path)) return {};
  return (JSON.parse(readFileSync(path, "utf8")) as { machines: Record<string, MachineRecord> }).machines;
}

export interface PipelockEvent {
  event: "started" | "reload" | "reload-failed" | "stopped";
  pid: number;
  at: number;
  listen?: string;
  mode?: string;
  reason?: string;
  warnings?: string[];
  signal?: string;
}

export function readPipelockEvents(stateDir: string): PipelockEvent[] {
  return readJsonLines<PipelockEvent>(join(stateDir, "pipelock", "events.jsonl"));
}

function nearestExistingDir(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Resolves with check()'s first defined result, re-checking whenever the
 * directory that holds (or will hold) `path` changes. */
export function waitForChange<T>(path: string, check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let settled = false;
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    function finish(action: () => void): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher?.close();
      action();
    }
    function arm(): void {
      if (settled) return;
      watcher?.close();
      const dir = nearestExistingDir(path);
      try {
        watcher = watch(dir, () => arm());
      } catch (error) {
        // The directory went away between finding it and watching it (a run
        // dir being removed): look again from the nearest one that is left.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return arm();
        return finish(() => reject(error));
      }
      watcher.on("error", () => arm());
      // A deeper directory may have appeared before the watch started.
      if (nearestExistingDir(path) !== dir) return arm();
      let result: T | undefined;
      try {
        result = check();
      } catch (error) {
        return finish(() => reject(error));
      }
      if (result !== undefined) finish(() => resolve(result));
    }
    arm();
  });
}

export function waitForFile(path: string, timeoutMs = 5000): Promise<void> {
  return waitForChange(path, () => (existsSync(path) ? true : undefined), timeoutMs, path).then(() => undefined);
}

/** Waits for a pipelock event matching `match` (e.g. the first `reload`). */
export function waitForPipelockEvent(
  stateDir: string,
  match: (event: PipelockEvent) => boolean,
  timeoutMs = 5000,
): Promise<PipelockEvent> {
  const path = join(stateDir, "pipelock", "events.jsonl");
  return waitForChange(path, () => readPipelockEvents(stateDir).find(match), timeoutMs, `a pipelock event in ${path}`);
}

/** Retries a connect on the next event-loop turn after each refusal. */
export function waitForPort(port: number, timeoutMs = 5000, host = "127.0.0.1"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, host);
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${host}:${port}`));
        else setImmediate(attempt);
      });
    };
    attempt();
  });
}

/** A port that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningFake {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited and its pipes are closed. */
  exit: Promise<Exit>;
}

/** Spawns a command (looked up on env.PATH) with piped output. If it is still
 * running after `timeoutMs` it is SIGKILLed so a broken test cannot hang. */
export function startFake(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): RunningFake {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = exitOf(child, () => ({ stdout, stderr }), timeoutMs);
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/**
 * Settles when `child` has exited and its pipes are closed, with what it
 * printed; SIGKILLs it after `timeoutMs` so a broken test cannot hang.
 * `onClose` runs just before it settles.
 */
export function exitOf(child: ChildProcess, output: () => { stdout: string; stderr: string }, timeoutMs: number, onClose?: () => void): Promise<Exit> {
  return new Promise<Exit>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      onClose?.();
      resolve({ code, signal, ...output() });
    });
  });
}

/**
 * Sends one request head to an HTTP proxy on 127.0.0.1:port and reads the
 * answer: until its Content-Length is in (the real pipelock keeps the
 * connection open), or until it closes.
 */
export function askProxy(port: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const answer = () => ({ status: Number(/^HTTP\/1\.1 ([0-9]{3}) /.exec(text)?.[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) });
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *([0-9]+)\r\n/i.exec(text.slice(0, end + 2))?.[1];
      if (end >= 0 && length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length)) {
        socket.destroy();
        resolve(answer());
      }
    });
    socket.on("error", reject);
    socket.on("end", () => resolve(answer()));
    socket.write(head);
  });
}

/** Runs a command to completion. */
export function runFake(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Exit> {
  return startFake(command, args, env, timeoutMs).exit;
}
