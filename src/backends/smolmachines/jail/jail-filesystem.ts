// What the Linux jail's file system holds, read from this host: the
// system's binary and library directories, Node's install, bottle's own
// compiled package, and the files the jailed command names; /proc without
// the kernel's settings. Everything else (/etc, /home, /root, /tmp, /run,
// other users' sockets) is simply absent. Also who the jail runs as.
import { existsSync, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { packageRoot } from "../../../lib/package-root.js";
import { jailCredentials, type JailCredentials, type ProcCovers, type SystemMount } from "./bwrap-args.js";
import { isInside } from "../../../lib/path-checks.js";

/** Top-level directories that hold the dynamic loader, libc and /bin/sh on Linux distributions. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;

/** The system directories this host has, each as it is: a directory or a symlink (merged /usr). */
export function systemMounts(candidates: readonly string[] = SYSTEM_DIRS): SystemMount[] {
  const mounts: SystemMount[] = [];
  for (const path of candidates) {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) mounts.push({ kind: "symlink", path, target: readlinkSync(path) });
    else if (stat.isDirectory()) mounts.push({ kind: "dir", path });
  }
  return mounts;
}

/**
 * The writable kernel interfaces of /proc (writes there change the host,
 * whatever namespace they come from; only the real uid guards them): the
 * sysctls (/proc/sys, binfmt_misc among them), interrupts' CPU affinity,
 * PCI and input devices, pressure-stall triggers, ACPI, the file systems'
 * and drivers' settings; and the magic SysRq key and MTRRs.
 */
export const PROC_COVER_CANDIDATES: Readonly<ProcCovers> = {
  dirs: ["/proc/sys", "/proc/irq", "/proc/bus", "/proc/pressure", "/proc/acpi", "/proc/fs", "/proc/scsi", "/proc/driver"],
  files: ["/proc/sysrq-trigger", "/proc/mtrr"],
};

/** Those of `candidates` this host's /proc has (the jail's fresh /proc is the same kernel's): bwrap can only cover what exists. */
export function procCovers(candidates: Readonly<ProcCovers> = PROC_COVER_CANDIDATES): ProcCovers {
  const kind = (path: string): "dir" | "file" | null => {
    try {
      const stat = lstatSync(path);
      return stat.isDirectory() ? "dir" : stat.isFile() ? "file" : null;
    } catch {
      return null;
    }
  };
  return { dirs: candidates.dirs.filter((path) => kind(path) === "dir"), files: candidates.files.filter((path) => kind(path) === "file") };
}

/**
 * What the jail gets of bottle's package: dist (relay-inside.js), the
 * package.json that makes it ESM, and node_modules (its published
 * dependencies, public code, which a gvproxy stand-in written in Node, such
 * as the test fakes, imports). Not the package root: a checkout holds .git,
 * whose config may carry a token.
 */
function packageFiles(root: string): string[] {
  return [join(root, "package.json"), join(root, "dist"), ...(existsSync(join(root, "node_modules")) ? [join(root, "node_modules")] : [])];
}

/**
 * Node's install for a real node path: <prefix> for <prefix>/bin/node when
 * <prefix>/include/node marks a Node install (its lib/ may hold shared
 * libraries), else the binary alone: never a directory such as the home dir
 * that merely holds bin/node.
 */
export function nodeInstallDir(realNode: string): string {
  const bin = dirname(realNode);
  const prefix = dirname(bin);
  return basename(bin) === "bin" && prefix !== "/" && existsSync(join(prefix, "include", "node")) ? prefix : realNode;
}

export interface JailFileSystem {
  system: SystemMount[];
  proc: ProcCovers;
  /** Read-only binds besides the system directories, by real path, none under a bound system directory. */
  readOnly: string[];
  /** Files given to the jail as read-only copies, by real path. */
  copies: string[];
  /** The node binary to run the relay with, by its real path (a path that exists inside the jail). */
  node: string;
  /** Who the jail runs as (bottle's uid decides it; see JailCredentials). */
  credentials: JailCredentials;
}

export interface JailFileSystemInput {
  /** The node binary on the host (process.execPath). */
  nodePath: string;
  /** Files the jailed command runs or reads (gvproxy): bound read-only. */
  files: readonly string[];
  /** Files the jailed command only reads (its config): copied in read-only, readable whatever the jail's uid. */
  copies?: readonly string[];
  /** bottle's package root; defaults to packageRoot(). */
  root?: string;
  system?: SystemMount[];
  proc?: ProcCovers;
  /** The uid that starts the jail; defaults to this process's. */
  uid?: number;
}

/** The file system of the jail: all paths by real path, since a symlink on the way may point at something the jail lacks. */
export function jailFileSystem(input: JailFileSystemInput): JailFileSystem {
  const system = input.system ?? systemMounts();
  const node = realpathSync(input.nodePath);
  const root = realpathSync(input.root ?? packageRoot());
  const wanted = [nodeInstallDir(node), ...packageFiles(root), ...input.files.map((file) => realpathSync(file))];
  for (const path of wanted) if (!isAbsolute(path)) throw new Error(`jailFileSystem: ${path} is not absolute`);
  const systemDirs = system.filter((mount) => mount.kind === "dir").map((mount) => mount.path);
  const readOnly = [...new Set(wanted)].filter((path) => !systemDirs.some((dir) => isInside(dir, path))).sort();
  const copies = (input.copies ?? []).map((file) => realpathSync(file));
  return { system, proc: input.proc ?? procCovers(), readOnly, copies, node, credentials: jailCredentials(input.uid ?? process.getuid?.()) };
}
