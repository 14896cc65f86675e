// Host-side parent of bwrap:  node bwrap-launcher.js [--copy <file>]… <bwrap> [bwrap args…]
// bubblewrap does not forward signals: a SIGTERM kills bwrap itself, and
// --die-with-parent then SIGKILLs the jail, so the command never sees it.
// This launcher starts bwrap with --info-fd to learn the host pid of the
// jail's first process (pid 1 inside, thanks to --as-pid-1) and forwards
// SIGTERM/SIGINT/SIGHUP to it. It exits with bwrap's status, and exits at
// once if its own parent dies, which --die-with-parent turns into the jail's
// death. It passes no environment on, and no descriptor but the ones it
// means bwrap to have (a descriptor it inherited is closed first). It also
// hands bwrap the jail's seccomp filter on SECCOMP_FD, the jail's end of a
// socket whose other end it holds until it exits on LIFELINE_FD (see there),
// and each --copy file (opened here, as bottle) on FIRST_COPY_FD and up, for
// its --ro-bind-data.
// node: imports and import-free modules only, so it starts fast.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { closeInheritedDescriptors } from "../../../lib/inherited-descriptors.js";
import { LIFELINE_FD } from "./bwrap-args.js";
import { SECCOMP_FD, seccompFilter, unknownArch } from "./seccomp-filter.js";

const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
const INFO_FD = 3;
// Node cannot set PR_SET_PDEATHSIG, so the launcher polls getppid().
const PARENT_CHECK_MS = 200;

function exitWith(message: string, exitCode: number): never {
  process.stderr.write(`bwrap-launcher: ${message}\n`);
  process.exit(exitCode);
}

/** bwrap's --info-fd document: {"child-pid": N, …}, N in the host's pid namespace. */
function jailPidFromInfo(text: string): number | undefined {
  try {
    const pid = (JSON.parse(text) as { "child-pid"?: unknown })["child-pid"];
    return typeof pid === "number" && Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function main(): void {
  closeInheritedDescriptors();
  const argv = process.argv.slice(2);
  const copies: string[] = [];
  while (argv[0] === "--copy" && argv[1] !== undefined) copies.push(argv.splice(0, 2)[1]!);
  const [bwrapPath, ...bwrapArgs] = argv;
  if (bwrapPath === undefined) exitWith("usage: bwrap-launcher.js [--copy <file>]… <bwrap> [bwrap args…]", 2);

  const filter = seccompFilter(process.arch);
  if (filter === undefined) {
    const { reason, fix } = unknownArch(process.arch);
    exitWith(`${reason}; ${fix}`, 1);
  }

  let copyFds: number[];
  try {
    copyFds = copies.map((path) => openSync(path, "r"));
  } catch (error) {
    exitWith(`cannot open a file the jail gets a copy of: ${(error as Error).message}`, 1);
  }

  const parentPid = process.ppid;
  const bwrap = spawn(bwrapPath, ["--info-fd", String(INFO_FD), ...bwrapArgs], {
    // INFO_FD, SECCOMP_FD, LIFELINE_FD, then the copies from FIRST_COPY_FD (bwrap-args.ts numbers them the same way).
    stdio: ["inherit", "inherit", "inherit", "pipe", "pipe", "pipe", ...copyFds],
    // Nothing of bottle's environment reaches bwrap, let alone the jail (bwrap's --clearenv is the second lock).
    env: {},
  });
  for (const fd of copyFds) closeSync(fd);
  bwrap.on("error", (error) => exitWith(`cannot start ${bwrapPath}: ${error.message}`, 127));
  bwrap.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal ?? "SIGKILL"] ?? 0)));

  // Held open, never written: the jail reads its end closing as this process ending.
  const lifeline = bwrap.stdio[LIFELINE_FD] as Readable;
  lifeline.on("data", () => undefined);
  lifeline.on("error", () => undefined);

  const seccomp = bwrap.stdio[SECCOMP_FD] as Writable;
  seccomp.on("error", () => undefined); // bwrap died before reading it: its exit says why
  seccomp.end(filter);

  let jailPid: number | undefined;
  let infoRead = false;
  const pending: NodeJS.Signals[] = [];
  const deliver = (signal: NodeJS.Signals): void => {
    if (jailPid !== undefined) {
      try {
        process.kill(jailPid, signal);
      } catch {
        // Already gone: bwrap's exit follows.
      }
    } else if (infoRead) {
      bwrap.kill(signal); // bwrap failed before starting the jail
    } else {
      pending.push(signal);
    }
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => deliver(signal));

  let info = "";
  const infoStream = bwrap.stdio[INFO_FD] as Readable;
  infoStream.setEncoding("utf8");
  infoStream.on("data", (chunk: string) => (info += chunk));
  infoStream.on("end", () => {
    jailPid = jailPidFromInfo(info);
    infoRead = true;
    for (const signal of pending.splice(0)) deliver(signal);
  });

  setInterval(() => {
    if (process.ppid !== parentPid) process.exit(1);
  }, PARENT_CHECK_MS);
}

main();
