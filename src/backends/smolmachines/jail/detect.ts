// Which network jail this host can run, as a typed value. A failure names
// its cause and the fix, instead of passing bwrap's raw message along.
import { runShort } from "../process/short-run.js";
import { findOnPath, isExecutableFile } from "../../../lib/host-tools.js";
import { isolationArgs, jailCredentials, READ_ONLY_ROOT, rootArgs, type JailCredentials, type ProcCovers, type SystemMount } from "./bwrap-args.js";
import { procCovers, systemMounts } from "./jail-filesystem.js";
import { SECCOMP_ARCHES, unknownArch } from "./seccomp-filter.js";

export type JailSupport =
  | { kind: "bwrap"; bwrap: string }
  | { kind: "sandbox-exec"; path: string }
  | { kind: "unavailable"; reason: string; fix: string };

export type AvailableJail = Exclude<JailSupport, { kind: "unavailable" }>;

export interface ProbeResult {
  /** Exit code; null if it was killed or could not start. */
  code: number | null;
  stderr: string;
}

export type ProbeRunner = (command: string, args: readonly string[]) => Promise<ProbeResult>;

export interface DetectOptions {
  /** Runs the bwrap probe; the default spawns it with a timeout. */
  run?: ProbeRunner;
  /** The PATH to search for bwrap; defaults to process.env.PATH. */
  pathEnv?: string;
  isExecutable?: (path: string) => boolean;
  /** The CPU (a process.arch value); defaults to process.arch. */
  arch?: string;
  /** The uid the jail will start as (root's jail drops to nobody); defaults to this process's. */
  uid?: number;
}

export const SANDBOX_EXEC = "/usr/bin/sandbox-exec";
const PROBE_TIMEOUT_MS = 10_000;

export const BWRAP_INSTALL_FIX =
  "install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap` (Fedora)";

export const USERNS_FIX = [
  "allow unprivileged user namespaces for bwrap:",
  "on Ubuntu 23.10 and later, `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`",
  "or an AppArmor profile for /usr/bin/bwrap that grants `userns,`;",
  "on older Debian, `sudo sysctl kernel.unprivileged_userns_clone=1`;",
  "elsewhere check that `sysctl user.max_user_namespaces` is above 0.",
  "Inside a container, the container itself must allow new namespaces.",
].join(" ");

/** The probe runs the jail's own isolation flags and root on `true`. */
export function bwrapProbeArgs(credentials: JailCredentials, system: readonly SystemMount[] = systemMounts(), proc: ProcCovers = procCovers()): string[] {
  return [...isolationArgs(credentials), ...rootArgs(system, proc), ...READ_ONLY_ROOT, "--", "true"];
}

export const BWRAP_UPGRADE_FIX =
  "install bubblewrap 0.8.0 or later (the jail needs --disable-userns): Debian 12, Ubuntu 24.04 and Fedora 38 ship it; check with `bwrap --version`";

const USERNS_DENIED = [
  /No permissions to creat\w* new namespace/i,
  /setting up uid map: Permission denied/i,
  /Creating new namespace failed/i,
  /Operation not permitted/i,
];

/** Turns a failed probe's stderr into a reason and a fix (pure). */
export function classifyBwrapFailure(stderr: string): { reason: string; fix: string } {
  const detail = stderr.trim().split("\n")[0]?.trim() || "no message";
  if (/Unknown option/i.test(stderr)) {
    return { reason: `this bubblewrap is too old for the jail (bwrap said: ${detail})`, fix: BWRAP_UPGRADE_FIX };
  }
  if (USERNS_DENIED.some((pattern) => pattern.test(stderr))) {
    return { reason: `bubblewrap cannot create the jail's namespaces on this host (bwrap said: ${detail})`, fix: USERNS_FIX };
  }
  return {
    reason: `bubblewrap's probe failed (bwrap said: ${detail})`,
    fix: `run \`bwrap ${bwrapProbeArgs(jailCredentials(process.getuid?.())).join(" ")}\` by hand to see why`,
  };
}

export const runProbe: ProbeRunner = async (command, args) => {
  const run = await runShort(command, args, { timeoutMs: PROBE_TIMEOUT_MS });
  return { code: run.exitCode, stderr: run.spawnError ?? (run.timedOut ? `${run.stderr}(timed out)` : run.stderr) };
};

async function detectBwrap(options: DetectOptions): Promise<JailSupport> {
  const arch = options.arch ?? process.arch;
  if (SECCOMP_ARCHES[arch] === undefined) return { kind: "unavailable", ...unknownArch(arch) };
  const isExecutable = options.isExecutable ?? isExecutableFile;
  const bwrap = findOnPath("bwrap", options.pathEnv ?? process.env.PATH ?? "", isExecutable);
  if (bwrap === null) {
    return { kind: "unavailable", reason: "bubblewrap (bwrap) is not on PATH; bottle needs it to jail gvproxy's network", fix: BWRAP_INSTALL_FIX };
  }
  const probe = await (options.run ?? runProbe)(bwrap, bwrapProbeArgs(jailCredentials(options.uid ?? process.getuid?.())));
  if (probe.code === 0) return { kind: "bwrap", bwrap };
  return { kind: "unavailable", ...classifyBwrapFailure(probe.stderr) };
}

export async function detectJail(platform: NodeJS.Platform = process.platform, options: DetectOptions = {}): Promise<JailSupport> {
  if (platform === "linux") return detectBwrap(options);
  if (platform === "darwin") {
    if ((options.isExecutable ?? isExecutableFile)(SANDBOX_EXEC)) return { kind: "sandbox-exec", path: SANDBOX_EXEC };
    return {
      kind: "unavailable",
      reason: `${SANDBOX_EXEC} is missing; bottle needs it to jail gvproxy's network`,
      fix: "sandbox-exec ships with macOS; check that /usr/bin is intact",
    };
  }
  return {
    kind: "unavailable",
    reason: `bottle has no network jail for ${platform}`,
    fix: "run bottle on Linux (bubblewrap) or macOS (sandbox-exec)",
  };
}
