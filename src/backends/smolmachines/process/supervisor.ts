// The one owner of every child process a launch starts: long-lived ones
// (sidecars, the jail), short CLI calls (smolvm), and the attached agent.
// Each is tracked in the child registry (children.ts) until it exits, so a
// teardown or a forced exit reaches all of them. (How each step is undone
// is the undo stack's, undo-stack.ts.)
//
// Every child is started the same way: its program by absolute path (a
// bare name is looked up once, on the trusted search path), PATH set to
// that search path, and the working directory bottle chose (the stage
// dir), never the directory bottle was started from, which may be a
// workspace the agent writes. The jail's bwrap is the one child started
// its own way (jail/bwrap-process.ts, through start()'s `spawn`): with no
// environment at all, the descriptors it needs, and its stop signals sent
// to the jail's pid 1, which bwrap names only once it runs.
import { closeSync, createWriteStream } from "node:fs";
import { isAbsolute } from "node:path";
import type { ResultPromise } from "execa";
import { BottleError } from "../../../lib/errors.js";
import { findOnPath } from "../../../lib/host-tools.js";
import { readFileNoFollow } from "../../../lib/no-follow.js";
import { lastLines } from "../../../lib/text.js";
import { ChildRegistry } from "./children.js";
import { LAUNCHER_MARK_ENV, signalGroup } from "./identity.js";

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

/** A child's log: opened by bottle (logs.ts: no symlink followed, a file of its own), and the path it was opened at, for messages. */
export interface ChildLog {
  path: string;
  fd: number;
}

/** A long-lived child as the supervisor tracks it, however it was spawned. */
export interface SpawnedChild {
  /** Undefined when it could not be started. */
  readonly pid: number | undefined;
  readonly exited: Promise<ExitInfo>;
  /** Where a signal meant for it goes: its process group, or (the jail) a process it names later. */
  signal(signal: NodeJS.Signals): void;
}

/** Starts `program` its own way: working in `cwd`, its output on the `log` descriptor (which the supervisor closes after). */
export type OwnSpawn = (program: string, args: readonly string[], setting: { cwd: string; log: number }) => SpawnedChild;

export interface SupervisorOptions {
  /** The trusted search path (trustedSearchPath()): where bare program names are looked up, and every child's PATH. */
  searchPath: string;
  /** Every child's working directory. */
  cwd: string;
}

export class Supervisor {
  private readonly children = new ChildRegistry<ManagedProcess>();

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
   * name since would be followed). The descriptor is closed here. `spawn`
   * starts it instead of execa, with its own environment and descriptors,
   * and says where its signals go (the jail's bwrap: bwrap-process.ts).
   */
  async start(
    role: string,
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; log: ChildLog; spawn?: OwnSpawn },
  ): Promise<ManagedProcess> {
    const { path: logFile, fd } = options.log;
    let program: string;
    let child: SpawnedChild;
    try {
      program = this.program(command, role);
      child = options.spawn ? options.spawn(program, args, { cwd: this.options.cwd, log: fd }) : await this.spawnWithExeca(program, args, options.env, options.log);
    } finally {
      // The child has its own copy now (or never started).
      closeSync(fd);
    }
    const tracked = { pid: child.pid, kill: child.signal };
    this.children.add(tracked);
    const exited = child.exited.then((exit) => {
      this.children.remove(tracked);
      return exit;
    });
    if (child.pid === undefined) {
      await exited;
      throw new Error(`could not start ${role} (${program}): ${tail(logFile, 5) || "spawn failed"}`);
    }
    const managed = manage(role, child.pid, logFile, exited, child.signal);
    this.children.name(role, managed);
    return managed;
  }

  private async spawnWithExeca(program: string, args: readonly string[], env: NodeJS.ProcessEnv | undefined, childLog: ChildLog): Promise<SpawnedChild> {
    const { execa } = await import("execa");
    // A stream over bottle's descriptor, which execa passes to spawn as it is: Node gives the child that fd.
    const log = createWriteStream(childLog.path, { fd: childLog.fd, autoClose: false });
    // Every child carries the launcher's mark, even one given a bare
    // environment (the git gate): it is how a later `rm` or `stop` proves a
    // leftover is this launcher's before killing it.
    const mark = process.env[LAUNCHER_MARK_ENV];
    const child: ChildPromise = execa(program, args, {
      ...this.childSetting({ ...(env ?? process.env), ...(mark ? { [LAUNCHER_MARK_ENV]: mark } : {}) }),
      stdin: "ignore",
      stdout: log,
      stderr: log,
      reject: false,
      // Its own process group: a Ctrl-C at the terminal reaches bottle,
      // which then stops children in order, not all at once.
      detached: true,
      cleanup: true,
    });
    const pid = child.pid;
    return {
      pid,
      exited: Promise.resolve(child).then((result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null })),
      signal: (name) => {
        if (pid === undefined) child.kill(name);
        else void signalGroup(pid, name);
      },
    };
  }

  /** The live long-lived child started under `role`, if any. */
  process(role: string): ManagedProcess | undefined {
    return this.children.named(role);
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
    this.children.add(child);
    try {
      const result = await child;
      const spawnError = result.failed && result.exitCode === undefined && result.code !== undefined && !result.isTerminated ? (result.shortMessage ?? result.message ?? result.code) : null;
      return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? result.message ?? ""), spawnError };
    } finally {
      this.children.remove(child);
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
    this.children.add(child);
    if (child.pid !== undefined) options.onStart?.(child.pid);
    try {
      const result = await child;
      return { exitCode: result.exitCode ?? (result.signal ? 128 + signalNumber(result.signal) : 1) };
    } finally {
      this.children.remove(child);
    }
  }

  /**
   * A process bottle did not spawn but is answerable for (the VM that
   * `smolvm machine start` leaves running). Its step's undo stops it
   * properly; only killEverything kills it, and only while it is still the
   * same process.
   */
  adopt(role: string, pid: number): void {
    this.children.adopt(role, pid);
  }

  disown(role: string): void {
    this.children.disown(role);
  }

  /** The end of a teardown: whatever is still running (an interrupted short call) is killed. */
  killRemaining(): void {
    this.children.killRunning();
  }

  /** The second Ctrl-C: every child and adopted process, at once (children.ts). */
  killEverything(): void {
    this.children.killEverything();
  }
}

/** The handle of a long-lived child whose exit `exited` reports. */
function manage(role: string, pid: number, logFile: string, exited: Promise<ExitInfo>, signal: (name: NodeJS.Signals) => void): ManagedProcess {
  let done = false;
  let stopping = false;
  void exited.then(() => (done = true));
  return {
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
}

function tail(path: string, lines: number): string {
  try {
    return lastLines(readFileNoFollow(path) ?? "", lines);
  } catch {
    return "";
  }
}

function signalNumber(name: string): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return numbers[name] ?? 0;
}
