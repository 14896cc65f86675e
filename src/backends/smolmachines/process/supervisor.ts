// The one owner of every child process a launch starts: long-lived ones
// (sidecars, the jail), short CLI calls (smolvm), and the attached agent.
// It also keeps the rollback stack: each step registers how to undo itself,
// and teardown undoes them in reverse order.
//
// Every child is started the same way: its program by absolute path (a
// bare name is looked up once, on the trusted search path), PATH set to
// that search path, and the working directory bottle chose (the stage
// dir), never the directory bottle was started from, which may be a
// workspace the agent writes.
import { closeSync, createWriteStream } from "node:fs";
import { isAbsolute } from "node:path";
import type { ResultPromise } from "execa";
import { killIfSame, LAUNCHER_MARK_ENV, signalGroup } from "./identity.js";
import { BottleError, errorMessage } from "../../../lib/errors.js";
import { findOnPath } from "../../../lib/host-tools.js";
import { descendants, processStartTime } from "../../../lib/proc.js";
import { readFileNoFollow } from "../../../lib/no-follow.js";

// Each execa call's promise type depends on its options; the supervisor only
// needs what they share.
type ChildPromise = Pick<ResultPromise, "pid" | "kill"> & PromiseLike<{ exitCode?: number | undefined; signal?: string | undefined }>;

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export interface ManagedProcess {
  readonly role: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  alive(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  /** Calls `callback` if it exits without stop() having been asked for (it died or quit on its own). */
  onUnexpectedExit(callback: (exit: ExitInfo) => void): void;
}

export interface CallResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Why the program could not be started at all (its message), or null. */
  spawnError: string | null;
}

interface Undo {
  label: string;
  /** May return a more precise description of what it did; null when there was nothing to undo. */
  run: () => Promise<string | null | void>;
}

/** A child's log: opened by bottle (launch/logs.ts: no symlink followed, a file of its own), and the path it was opened at, for messages. */
export interface ChildLog {
  path: string;
  fd: number;
}

export interface SupervisorOptions {
  /** The trusted search path (trustedSearchPath()): where bare program names are looked up, and every child's PATH. */
  searchPath: string;
  /** Every child's working directory. */
  cwd: string;
}

export class Supervisor {
  private readonly processes = new Set<ChildPromise>();
  private readonly undo: Undo[] = [];
  private readonly byRole = new Map<string, ManagedProcess>();
  /** Processes another program started for us (smolvm's VM): killed only by a forced exit. */
  private readonly adopted = new Map<string, { pid: number; startTime: string | null }>();
  private tearingDown = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** `command` by absolute path: as given when absolute, else found on the trusted search path. */
  program(command: string, role: string = command): string {
    if (isAbsolute(command)) return command;
    const found = command.includes("/") ? null : findOnPath(command, this.options.searchPath);
    if (found === null) {
      throw new BottleError(
        "missing-tool",
        `${role}: cannot find \`${command}\` on the trusted search path (${this.options.searchPath || "empty"}): bottle runs a program named by its bare name only from an absolute PATH entry outside every guest-writable workspace, or from bottle's .tools/bin; install it there or give its absolute path`,
      );
    }
    return found;
  }

  /** The environment and working directory every child gets: `env` with PATH replaced by the trusted search path. */
  private childSetting(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; extendEnv: false; cwd: string } {
    return { env: { ...env, PATH: this.options.searchPath }, extendEnv: false, cwd: this.options.cwd };
  }

  /**
   * Starts a long-lived child in its own process group, its output going to
   * `log`'s descriptor (never its path, opened again: a link put at the
   * name since would be followed). The descriptor is closed here.
   */
  async start(role: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; log: ChildLog }): Promise<ManagedProcess> {
    const { path: logFile, fd } = options.log;
    let program: string;
    let child: ChildPromise;
    try {
      program = this.program(command, role);
      const { execa } = await import("execa");
      // A stream over bottle's descriptor, which execa passes to spawn as it is: Node gives the child that fd.
      const log = createWriteStream(logFile, { fd, autoClose: false });
      // Every child carries the launcher's mark, even one given a bare
      // environment (the git gate, the jail): it is how a later `rm` or `stop`
      // proves a leftover is this launcher's before killing it.
      const mark = process.env[LAUNCHER_MARK_ENV];
      child = execa(program, args, {
        ...this.childSetting({ ...(options.env ?? process.env), ...(mark ? { [LAUNCHER_MARK_ENV]: mark } : {}) }),
        stdin: "ignore",
        stdout: log,
        stderr: log,
        reject: false,
        // Its own process group: a Ctrl-C at the terminal reaches bottle,
        // which then stops children in order, not all at once.
        detached: true,
        cleanup: true,
      });
    } finally {
      // The child has its own copy now (or never started).
      closeSync(fd);
    }
    this.processes.add(child);
    const exited = Promise.resolve(child).then((result) => {
      this.processes.delete(child);
      return { code: result.exitCode ?? null, signal: result.signal ?? null };
    });
    const pid = child.pid;
    if (pid === undefined) {
      await exited;
      throw new Error(`could not start ${role} (${program}): ${tail(logFile, 5) || "spawn failed"}`);
    }
    let done = false;
    let stopping = false;
    void exited.then(() => (done = true));
    const signal = (name: NodeJS.Signals): void => void signalGroup(pid, name);
    const managed: ManagedProcess = {
      role,
      pid,
      logFile,
      exited,
      alive: () => !done,
      signal,
      stop: async (graceMs = 5000) => {
        stopping = true;
        if (done) return exited;
        signal("SIGTERM");
        const timer = setTimeout(() => signal("SIGKILL"), graceMs);
        const info = await exited;
        clearTimeout(timer);
        // Anything it left in its group goes too.
        signal("SIGKILL");
        return info;
      },
      logTail: (lines = 10) => tail(logFile, lines),
      onUnexpectedExit: (callback) => {
        void exited.then((info) => {
          if (!stopping) callback(info);
        });
      },
    };
    this.byRole.set(role, managed);
    return managed;
  }

  /** The live long-lived child started under `role`, if any. */
  process(role: string): ManagedProcess | undefined {
    const found = this.byRole.get(role);
    return found?.alive() ? found : undefined;
  }

  /** A short command whose output we read (e.g. `smolvm machine status`). */
  async call(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<CallResult> {
    const { execa } = await import("execa");
    const child = execa(this.program(command), args, {
      ...this.childSetting(options.env ?? process.env),
      stdin: "ignore",
      reject: false,
      timeout: options.timeoutMs ?? 120_000,
      cleanup: true,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    this.processes.add(child);
    try {
      const result = await child;
      const spawnError = result.failed && result.exitCode === undefined && result.code !== undefined && !result.isTerminated ? (result.shortMessage ?? result.message ?? result.code) : null;
      return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? result.message ?? ""), spawnError };
    } finally {
      this.processes.delete(child);
    }
  }

  /** A command that owns the terminal (the agent); resolves with its exit code. */
  async attach(
    command: string,
    args: readonly string[],
    options: { signal?: AbortSignal; onStart?: (pid: number) => void; env?: NodeJS.ProcessEnv } = {},
  ): Promise<{ exitCode: number }> {
    const { execa } = await import("execa");
    const child = execa(this.program(command), args, {
      ...this.childSetting(options.env ?? process.env),
      stdio: "inherit",
      reject: false,
      cleanup: true,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    this.processes.add(child);
    if (child.pid !== undefined) options.onStart?.(child.pid);
    try {
      const result = await child;
      return { exitCode: result.exitCode ?? (result.signal ? 128 + signalNumber(result.signal) : 1) };
    } finally {
      this.processes.delete(child);
    }
  }

  /**
   * A process bottle did not spawn but is answerable for (the VM that
   * `smolvm machine start` leaves running). Its step's undo stops it
   * properly; only killEverything kills it, and only while it is still the
   * same process.
   */
  adopt(role: string, pid: number): void {
    this.adopted.set(role, { pid, startTime: processStartTime(pid) });
  }

  disown(role: string): void {
    this.adopted.delete(role);
  }

  /** Registers how to undo a step that has happened. */
  defer(label: string, run: () => Promise<string | null | void> | string | null | void): void {
    this.undo.push({ label, run: async () => run() });
  }

  get pending(): readonly string[] {
    return this.undo.map((u) => u.label);
  }

  /** Undoes every registered step, last first. Errors are collected, not thrown. */
  async teardown(): Promise<{ cleaned: string[]; errors: string[] }> {
    this.tearingDown = true;
    const cleaned: string[] = [];
    const errors: string[] = [];
    for (let step = this.undo.pop(); step; step = this.undo.pop()) {
      try {
        const said = await step.run();
        if (said !== null) cleaned.push(said ?? step.label);
      } catch (error) {
        errors.push(`${step.label}: ${errorMessage(error)}`);
      }
    }
    // Anything still running (an interrupted CLI call) is stopped too.
    for (const child of this.processes) child.kill("SIGKILL");
    // A launch that retries (a port was lost) starts over with an empty stack.
    this.tearingDown = false;
    return { cleaned, errors };
  }

  get isTearingDown(): boolean {
    return this.tearingDown;
  }

  /**
   * The second Ctrl-C: kill every child now, no ordering, with everything
   * under it (the jail's processes lead a session of their own, and when
   * bottle runs as root they are nobody's, whom bwrap's parent-death signal
   * cannot reach), and every adopted process.
   */
  killEverything(): void {
    const pids = [...this.processes].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
    // Found before anything dies: a killed parent's children are re-parented away.
    for (const pid of pids.flatMap(descendants)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    for (const child of this.processes) {
      const pid = child.pid;
      if (pid === undefined) continue;
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
    for (const { pid, startTime } of this.adopted.values()) killIfSame(pid, startTime);
    this.adopted.clear();
  }
}

function tail(path: string, lines: number): string {
  try {
    return (readFileNoFollow(path) ?? "").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function signalNumber(name: string): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return numbers[name] ?? 0;
}
