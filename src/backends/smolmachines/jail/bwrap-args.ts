// bubblewrap arguments for the Linux network jail (pure: data in, argv out).
// Flags checked against `bwrap --help` of bubblewrap 0.8 (--disable-userns
// is new in 0.8.0).
import { SECCOMP_FD } from "./seccomp-filter.js";

/** The jail's uid and gid inside its user namespace (nobody/nogroup). */
export const JAIL_UID = 65534;
export const JAIL_GID = 65534;

/** The host uid and gid the jail runs as when bottle runs as root (nobody/nogroup). */
export const ROOT_JAIL_USER = { uid: 65534, gid: 65534 } as const;

/**
 * Who the jail's processes are to the kernel.
 *
 * - "userns" (bottle runs as an ordinary user): a user namespace maps the
 *   jail's nobody to that user, who is unprivileged already.
 * - "drop" (bottle runs as root): a user namespace would map the jail's
 *   nobody to uid 0, and the kernel checks writes to /proc/sys (and files
 *   generally) against that real uid, not capabilities: the jail could set
 *   kernel.core_pattern and have the host run its program as root. So bwrap
 *   sets the jail up as root in the host's user namespace, keeping only
 *   CAP_SETUID and CAP_SETGID, and the jail's pid 1 (relay-inside) makes
 *   itself `uid`/`gid` (no groups) before anything else, which clears
 *   every capability. The seccomp filter stands in for --disable-userns.
 */
export type JailCredentials = { kind: "userns" } | { kind: "drop"; uid: number; gid: number };

/** How a jail started by `uid` runs (process.getuid()). */
export function jailCredentials(uid: number | undefined): JailCredentials {
  return uid === 0 ? { kind: "drop", ...ROOT_JAIL_USER } : { kind: "userns" };
}

/** The uid the jail's files (its socket, pid and log) belong to on the host; `ownUid` is bottle's. */
export function jailHostUid(credentials: JailCredentials, ownUid: number): number {
  return credentials.kind === "drop" ? credentials.uid : ownUid;
}

/**
 * Namespaces, credentials and environment, shared by the jail and by
 * detect.ts's probe, so the probe tests exactly the isolation the jail asks for.
 */
export function isolationArgs(credentials: JailCredentials): string[] {
  const user =
    credentials.kind === "userns"
      ? [
          // Its own user namespace, mapped to nobody: outside, its files
          // belong to the (unprivileged) user who started it.
          "--unshare-user",
          "--uid",
          String(JAIL_UID),
          "--gid",
          String(JAIL_GID),
          // ...and it cannot make another one (where it could be root again).
          "--disable-userns",
          "--cap-drop",
          "ALL",
        ]
      : [
          // See JailCredentials: relay-inside needs these two to drop to nobody, which then clears them.
          "--cap-drop",
          "ALL",
          "--cap-add",
          "CAP_SETUID",
          "--cap-add",
          "CAP_SETGID",
        ];
  return [
    ...user,
    // New network namespace: bwrap brings up `lo` in it and nothing else.
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    // The command is pid 1 of the new pid namespace (no bwrap reaper), so a
    // signal sent to its host pid reaches it, and its death ends the jail.
    "--as-pid-1",
    "--die-with-parent",
    // No controlling terminal: the jail cannot push input into ours (TIOCSTI).
    "--new-session",
    // Nothing of the environment (secrets, tokens) goes in; bwrap
    // then sets only PWD, from --chdir.
    "--clearenv",
    "--chdir",
    "/",
  ];
}

/** A top-level system directory as the host has it: a real directory, or a symlink (/lib -> usr/lib). */
export type SystemMount = { kind: "dir"; path: string } | { kind: "symlink"; path: string; target: string };

/**
 * The kernel's writable interfaces under /proc that this host has
 * (jail-filesystem.ts finds them), hidden in the jail's fresh /proc: each
 * directory under an empty read-only tmpfs, each file under a read-only
 * /dev/null. Whatever the jail's uid, it can change no kernel setting.
 */
export interface ProcCovers {
  dirs: string[];
  files: string[];
}

/**
 * The jail's root: bwrap's own empty tmpfs, holding fresh /dev and /proc
 * (with the kernel's settings covered), the system's binary and library
 * directories read-only, and nothing else.
 */
export function rootArgs(system: readonly SystemMount[], proc: ProcCovers): string[] {
  return [
    ...system.flatMap((mount) => (mount.kind === "dir" ? ["--ro-bind", mount.path, mount.path] : ["--symlink", mount.target, mount.path])),
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    ...proc.dirs.flatMap((dir) => ["--tmpfs", dir, "--remount-ro", dir]),
    ...proc.files.flatMap((file) => ["--ro-bind", "/dev/null", file]),
  ];
}

/** Comes after every bind: the mount points those made are on the root tmpfs. Not recursive, so the jail dir stays writable. */
export const READ_ONLY_ROOT = ["--remount-ro", "/"];

/** Where bwrap writes its --info-fd document, naming the host pid of the jail's pid 1 (bwrap-process.ts reads it). */
export const INFO_FD = 3;

/**
 * The jail's end of a socket bottle holds the other end of (bwrap-process.ts):
 * it ends when bwrap or bottle does, and relay-inside (the jail's pid 1,
 * whose death ends the jail) then exits. --die-with-parent's parent-death
 * signal is not enough for a jail whose pid 1 changes its uid: the kernel
 * clears it.
 */
export const LIFELINE_FD = SECCOMP_FD + 1;

/** The descriptor bwrap reads the first of `copies` from (bwrap-process.ts opens them there, in order). */
export const FIRST_COPY_FD = LIFELINE_FD + 1;

export interface BwrapArgsInput {
  /** <run>/jail: the one writable directory (gvproxy's socket, pid and log files). */
  jailDir: string;
  /** <run>/jail/relays, made by the host relays before the jail starts: bound read-only over the jail dir, so the jail can dial the relay sockets but not replace them. */
  relayDir: string;
  system: readonly SystemMount[];
  proc: ProcCovers;
  /** Files and directories the command needs besides the system's (node, gvproxy, bottle's scripts), bound read-only at the same path. */
  readOnly: readonly string[];
  /** Files the command only reads (gvproxy.yaml), given as a read-only copy at the same path: bottle's 0600 file is not the jail's to open when it runs as another uid. */
  copies: readonly string[];
  credentials: JailCredentials;
  /** The program to run in the jail and its arguments. */
  command: readonly string[];
}

/**
 * Every directory above `paths` (not `/`, nor one of `skip`), parents first.
 * bwrap 0.8 makes a bind's missing parents 0700, owned by root in the jail
 * of a bottle run as root, which then cannot reach what is bound below them.
 */
export function parentDirs(paths: readonly string[], skip: readonly string[] = []): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    const parts = path.split("/").filter(Boolean);
    for (let depth = 1; depth < parts.length; depth++) found.add(`/${parts.slice(0, depth).join("/")}`);
  }
  return [...found].filter((dir) => !skip.includes(dir)).sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

export function bwrapArgs({ jailDir, relayDir, system, proc, readOnly, copies, credentials, command }: BwrapArgsInput): string[] {
  if (command.length === 0) throw new Error("bwrapArgs: the jail needs a command");
  const parents = parentDirs([...readOnly, ...copies, jailDir, relayDir], [...system.map((mount) => mount.path), ...readOnly, jailDir]);
  return [
    "--info-fd",
    String(INFO_FD),
    ...isolationArgs(credentials),
    // The seccomp filter (seccomp-filter.ts), which bwrap-process.ts writes
    // to this descriptor. Not in isolationArgs(): detect.ts's probe has none.
    "--seccomp",
    String(SECCOMP_FD),
    ...rootArgs(system, proc),
    ...parents.flatMap((dir) => ["--perms", "0755", "--dir", dir]),
    ...readOnly.flatMap((path) => ["--ro-bind", path, path]),
    ...copies.flatMap((path, index) => ["--perms", "0444", "--ro-bind-data", String(FIRST_COPY_FD + index), path]),
    "--bind",
    jailDir,
    jailDir,
    "--ro-bind",
    relayDir,
    relayDir,
    ...READ_ONLY_ROOT,
    "--",
    ...command,
  ];
}
