// bubblewrap arguments for the Linux network jail (pure: data in, argv out).
// Flags checked against `bwrap --help` of bubblewrap 0.8 (--disable-userns
// is new in 0.8.0).
import { SECCOMP_FD } from "./seccomp-filter.js";

/** The jail's uid and gid inside its user namespace (nobody/nogroup). */
export const JAIL_UID = 65534;
export const JAIL_GID = 65534;

/**
 * Namespaces, credentials and environment, shared by the jail and by
 * detect.ts's probe, so the probe tests exactly the isolation the jail asks for.
 */
export function isolationArgs(): string[] {
  return [
    // Its own user namespace, mapped to nobody: inside, the jail is never uid
    // 0, even when bottle runs as root. Outside, its files belong to the user
    // who started it (the one uid the namespace maps).
    "--unshare-user",
    "--uid",
    String(JAIL_UID),
    "--gid",
    String(JAIL_GID),
    // ...and it cannot make another one (where it could be root again).
    "--disable-userns",
    // New network namespace: bwrap brings up `lo` in it and nothing else.
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    // The command is pid 1 of the new pid namespace (no bwrap reaper), so a
    // signal sent to its host pid reaches it, and its death ends the jail.
    "--as-pid-1",
    // Run as root, bwrap would keep every capability in the jail, and
    // CAP_SYS_ADMIN can remount the read-only root read-write.
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    // No controlling terminal: the jail cannot push input into ours (TIOCSTI).
    "--new-session",
    // Nothing of the launcher's environment (secrets, tokens) goes in; bwrap
    // then sets only PWD, from --chdir.
    "--clearenv",
    "--chdir",
    "/",
  ];
}

/** A top-level system directory as the host has it: a real directory, or a symlink (/lib -> usr/lib). */
export type SystemMount = { kind: "dir"; path: string } | { kind: "symlink"; path: string; target: string };

/**
 * The jail's root: bwrap's own empty tmpfs, holding fresh /dev and /proc,
 * the system's binary and library directories read-only, and nothing else.
 */
export function rootArgs(system: readonly SystemMount[]): string[] {
  return [
    ...system.flatMap((mount) => (mount.kind === "dir" ? ["--ro-bind", mount.path, mount.path] : ["--symlink", mount.target, mount.path])),
    "--dev",
    "/dev",
    "--proc",
    "/proc",
  ];
}

/** Comes after every bind: the mount points those made are on the root tmpfs. Not recursive, so the jail dir stays writable. */
export const READ_ONLY_ROOT = ["--remount-ro", "/"];

export interface BwrapArgsInput {
  /** <run>/jail: the one writable directory (gvproxy's socket, pid and log files). */
  jailDir: string;
  /** <run>/jail/relays, made by the host relays before the jail starts: bound read-only over the jail dir, so the jail can dial the relay sockets but not replace them. */
  relayDir: string;
  system: readonly SystemMount[];
  /** Files and directories the command needs besides the system's (node, gvproxy, its config, bottle's scripts), bound read-only at the same path. */
  readOnly: readonly string[];
  /** The program to run in the jail and its arguments. */
  command: readonly string[];
}

export function bwrapArgs({ jailDir, relayDir, system, readOnly, command }: BwrapArgsInput): string[] {
  if (command.length === 0) throw new Error("bwrapArgs: the jail needs a command");
  return [
    ...isolationArgs(),
    // The seccomp filter (seccomp-filter.ts), which bwrap-launcher.js writes
    // to this descriptor. Not in isolationArgs(): detect.ts's probe has none.
    "--seccomp",
    String(SECCOMP_FD),
    ...rootArgs(system),
    ...readOnly.flatMap((path) => ["--ro-bind", path, path]),
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
