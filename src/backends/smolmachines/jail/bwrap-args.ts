// bubblewrap arguments for the Linux network jail (pure: data in, argv out).
// Flags checked against `bwrap --help` of bubblewrap 0.8.

/**
 * Namespaces and file system shared by the jail and by detect.ts's probe, so
 * the probe tests exactly the isolation the jail will ask for.
 */
export function isolationArgs(): string[] {
  return [
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
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
  ];
}

export interface BwrapArgsInput {
  /** The one writable directory: sockets and pid files. */
  runDir: string;
  /** The program to run in the jail and its arguments. */
  command: readonly string[];
  /**
   * Directories hidden behind an empty read-only tmpfs (home dirs, /tmp,
   * /run): where secrets and other programs' unix sockets (docker, ssh-agent)
   * live. Only real directories may be listed; the caller checks.
   */
  masks?: readonly string[];
  /** Paths under a mask that the jail still needs, bound back read-only. */
  readOnly?: readonly string[];
}

export function bwrapArgs({ runDir, command, masks = [], readOnly = [] }: BwrapArgsInput): string[] {
  if (command.length === 0) throw new Error("bwrapArgs: the jail needs a command");
  return [
    ...isolationArgs(),
    ...masks.flatMap((dir) => ["--tmpfs", dir]),
    "--bind",
    runDir,
    runDir,
    ...readOnly.flatMap((path) => ["--ro-bind", path, path]),
    // Remounted after the binds above, so their mount points could be made.
    ...masks.flatMap((dir) => ["--remount-ro", dir]),
    "--",
    ...command,
  ];
}
