// bwrap, started by bottle itself (no process between them), and where a
// stop's signal goes.
//
// bubblewrap does not forward signals: a SIGTERM kills bwrap itself, and
// --die-with-parent then SIGKILLs the jail, so gvproxy never sees a clean
// stop. bwrap tells, on INFO_FD, the host pid of the jail's first process
// (pid 1 inside, thanks to --as-pid-1); SIGTERM, SIGINT and SIGHUP go to
// that pid, and one sent before bwrap has told it waits for it.
//
// bwrap gets no environment and only the descriptors it is meant to have:
// INFO_FD, the seccomp filter on SECCOMP_FD, the jail's end of the lifeline
// on LIFELINE_FD (bottle holds the other end until bwrap exits, or until
// bottle dies), and each copied file, opened here as bottle, from
// FIRST_COPY_FD on (bwrap-args.ts numbers them all). Its parent is bottle,
// so --die-with-parent ends the jail when bottle dies.
import { spawn, type ChildProcess, type StdioNull, type StdioPipe } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { BottleError, errorMessage } from "../../../lib/errors.js";
import { signalGroup } from "../process/identity.js";
import { INFO_FD, LIFELINE_FD } from "./bwrap-args.js";
import { SECCOMP_FD, seccompFilter, unknownArch } from "./seccomp-filter.js";

/** The signals that mean "stop": they go to the jail's pid 1, never to bwrap while the jail runs. */
const STOP_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(["SIGTERM", "SIGINT", "SIGHUP"]);

export interface BwrapExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BwrapProcess {
  readonly child: ChildProcess;
  /** Once bwrap has said (or failed to say) who the jail's pid 1 is: its host pid, or undefined. */
  readonly jailPid: Promise<number | undefined>;
  /** Resolves when bwrap has exited (or could not start: code null, signal null, and `spawnError`). */
  readonly exited: Promise<BwrapExit & { spawnError?: string }>;
  /**
   * A stop signal (SIGTERM, SIGINT, SIGHUP) goes to the jail's pid 1, once
   * known; to bwrap when bwrap named none (it failed before the jail
   * started). Any other (SIGKILL) goes to bwrap's process group: the jail
   * dies with bwrap (--die-with-parent, and the lifeline closing).
   */
  signal(signal: NodeJS.Signals): void;
}

export interface SpawnBwrapOptions {
  /** Files the jail gets a copy of, in bwrapArgs()'s order: opened here and handed over from FIRST_COPY_FD. */
  copies: readonly string[];
  /** Where bwrap's (and the jail's) output goes: a descriptor bottle opened, or a pipe. */
  stdout: number | StdioPipe | StdioNull;
  stderr: number | StdioPipe | StdioNull;
  cwd?: string;
  /** Its own process group (bottle's children all lead one). */
  detached?: boolean;
}

/**
 * The jail's seccomp program for this CPU, or the refusal to start a jail
 * without one (the same words `bottle doctor` gives).
 */
export function jailSeccompFilter(arch: string = process.arch): Buffer {
  const filter = seccompFilter(arch);
  if (filter === undefined) {
    const { reason, fix } = unknownArch(arch);
    throw new BottleError("failed", `${reason}; ${fix}`);
  }
  return filter;
}

/** bwrap's --info-fd document: {"child-pid": N, …}, N in the host's pid namespace; only a pid above 1 counts. */
export function jailPidFromInfo(text: string): number | undefined {
  try {
    const pid = (JSON.parse(text) as { "child-pid"?: unknown })["child-pid"];
    return typeof pid === "number" && Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `program` (bwrap, given bwrapArgs(), which names the descriptors
 * used here) with the seccomp filter, the lifeline and the copies. Throws,
 * before anything starts, on a CPU without a filter or a copy it cannot open.
 */
export function spawnBwrap(program: string, args: readonly string[], options: SpawnBwrapOptions): BwrapProcess {
  const filter = jailSeccompFilter();
  const copyFds: number[] = [];
  let child: ChildProcess;
  try {
    try {
      for (const path of options.copies) copyFds.push(openSync(path, "r"));
    } catch (error) {
      throw new BottleError("failed", `cannot open a file the jail gets a copy of: ${errorMessage(error)}`, { cause: error });
    }
    child = spawn(program, args, {
      // INFO_FD, SECCOMP_FD, LIFELINE_FD, then the copies from FIRST_COPY_FD.
      stdio: ["ignore", options.stdout, options.stderr, "pipe", "pipe", "pipe", ...copyFds],
      // Nothing of bottle's environment reaches bwrap, let alone the jail (bwrap's --clearenv is the second lock).
      env: {},
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      detached: options.detached ?? false,
    });
  } finally {
    // bwrap has its own copies now (or never started).
    for (const fd of copyFds) closeSync(fd);
  }

  let gone = false;
  const exited = new Promise<BwrapExit & { spawnError?: string }>((resolve) => {
    child.on("error", (error) => {
      // Only a failed spawn ends here; an error signalling a live child does not.
      if (child.pid !== undefined) return;
      resolve({ code: null, signal: null, spawnError: `cannot start ${program}: ${error.message}` });
    });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  void exited.then(() => {
    gone = true;
    // The jail reads its end closing as bwrap ending (bwrap-args.ts, LIFELINE_FD).
    lifeline?.destroy();
  });

  // Held open, never written.
  const lifeline = child.stdio[LIFELINE_FD] as Readable | null;
  lifeline?.on("data", () => undefined);
  lifeline?.on("error", () => undefined);

  const seccomp = child.stdio[SECCOMP_FD] as Writable | null;
  seccomp?.on("error", () => undefined); // bwrap died before reading it: its exit says why
  seccomp?.end(filter);

  const jailPid = new Promise<number | undefined>((resolve) => {
    let info = "";
    const stream = child.stdio[INFO_FD] as Readable | null;
    if (!stream) return resolve(undefined);
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (info += chunk));
    stream.on("error", () => undefined);
    stream.on("close", () => resolve(jailPidFromInfo(info)));
  });

  let known: { pid: number | undefined } | undefined;
  void jailPid.then((pid) => (known = { pid }));
  const toBwrap = (signal: NodeJS.Signals): void => {
    if (!gone && child.pid !== undefined) signalGroup(child.pid, signal);
  };
  const signal = (name: NodeJS.Signals): void => {
    if (!STOP_SIGNALS.has(name)) return toBwrap(name);
    if (known === undefined) {
      // Delivered once bwrap has said who the jail is.
      void jailPid.then(() => signal(name));
      return;
    }
    if (known.pid === undefined) return toBwrap(name);
    // Only while bwrap runs: after, the pid may be another process's.
    if (gone) return;
    try {
      process.kill(known.pid, name);
    } catch {
      // Already gone: bwrap's exit follows.
    }
  };
  return { child, jailPid, exited, signal };
}
