// The directories bottle keeps its own files in (the run dir's sockets and
// records, the stage dir's rendered files and logs, the registry) may sit
// under a directory other users can write, such as /tmp. Before bottle
// reads, writes or deletes anything there, the whole path is checked, every
// level with lstat:
//
// - each ancestor is a directory owned by root or by you, that nobody else
//   can write: not writable by others unless sticky (like /tmp, where only
//   an entry's owner can rename it), and group-writable only for your own
//   primary group; a symlink among them must be owned by root or you and its
//   target passes the same checks;
// - bottle's own levels (the last `privateLevels` components, and the
//   sub-directories it uses) are real directories, not symlinks, owned by
//   you, with no group or other permission bits (0700).
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, unlinkSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
// node: imports and errors.js only: the git gate's entry scripts load this.
import { BottleError, EXIT_USAGE, usageError } from "./errors.js";

export interface PrivateDirSpec {
  /** What the directory is, for messages: "run dir", "stage dir". */
  what: string;
  /** How many trailing components of the path are bottle's own and must be private. */
  privateLevels: number;
  /** Sub-directories bottle uses inside it ("relays", "jail/relays"): checked when present. */
  subdirs?: readonly string[];
  /** Sub-directories (their relative path) that another uid may own instead of you: still 0700. */
  subdirOwners?: Readonly<Record<string, number>>;
  /** Make missing levels (ancestors included) 0700 instead of reporting the directory missing. */
  create?: boolean;
  /** What the user can do instead, e.g. "set XDG_RUNTIME_DIR to a directory of your own". */
  fix: string;
}

const MAX_LINKS = 40;

/**
 * Checks (and with `create`, makes) a private directory. Returns false when
 * it, or one of its ancestors, does not exist (and `create` is unset);
 * throws a BottleError naming the path, the problem and the fix when any
 * level is unsafe. Only missing levels are ever made; nothing is repaired.
 */
export function checkPrivateDir(dir: string, spec: PrivateDirSpec): boolean {
  const path = resolve(dir);
  const parts = path.split("/").filter(Boolean);
  if (parts.length <= spec.privateLevels) throw new Error(`${spec.what} ${path} has fewer than ${spec.privateLevels + 1} levels`);
  const refuse = (at: string, problem: string): BottleError =>
    usageError(`refusing to use the ${spec.what} ${path}: ${at} ${problem}; ${spec.fix}`);
  let current = trustedPath(`/${parts.slice(0, -spec.privateLevels).join("/")}`, spec, refuse, 0);
  if (current === null) return false;
  for (const name of parts.slice(-spec.privateLevels)) {
    const next = join(current, name);
    const st = lstatOrMake(next, spec.create);
    if (st === null) return false;
    privateLevel(next, st, refuse);
    current = next;
  }
  // Sub-directories are checked where present, never made here.
  for (const sub of spec.subdirs ?? []) {
    let level = current;
    const names = sub.split("/");
    for (const [depth, name] of names.entries()) {
      level = join(level, name);
      const st = lstatOrNull(level);
      if (st === null) break;
      privateLevel(level, st, refuse, spec.subdirOwners?.[names.slice(0, depth + 1).join("/")]);
    }
  }
  return true;
}

/**
 * The real path of `path`, each component checked as an ancestor; null when
 * a component is missing and `create` is unset.
 */
function trustedPath(path: string, spec: PrivateDirSpec, refuse: (at: string, problem: string) => BottleError, links: number): string | null {
  let current = "/";
  trustedDir(current, lstatSync(current), refuse);
  // Each component in turn, so a symlink anywhere is seen and checked before it is followed.
  for (const name of path.split("/").filter(Boolean)) {
    const next = join(current, name);
    const st = lstatOrMake(next, spec.create);
    if (st === null) return null;
    if (st.isSymbolicLink()) {
      if (!byRootOrYou(st)) throw refuse(next, `is a symlink owned by uid ${st.uid}, who can point it elsewhere`);
      if (links >= MAX_LINKS) throw refuse(next, "goes through too many symlinks");
      const target = trustedPath(resolve(current, readlinkSync(next)), spec, refuse, links + 1);
      if (target === null) return null;
      current = target;
      continue;
    }
    if (!st.isDirectory()) throw refuse(next, "is not a directory");
    trustedDir(next, st, refuse);
    current = next;
  }
  return current;
}

function trustedDir(path: string, st: Stats, refuse: (at: string, problem: string) => BottleError): void {
  if (!byRootOrYou(st)) throw refuse(path, `belongs to uid ${st.uid}, not to you (uid ${myUid()}) or root: its owner could replace what is under it`);
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o002) !== 0 && !sticky) throw refuse(path, `is writable by every user (mode ${octal(st.mode)}) and not sticky: anyone could replace what is under it`);
  if ((st.mode & 0o020) !== 0 && !sticky && st.gid !== process.getgid?.()) {
    throw refuse(path, `is writable by its group (gid ${st.gid}, mode ${octal(st.mode)}), which is not your own: its members could replace what is under it`);
  }
}

function privateLevel(path: string, st: Stats, refuse: (at: string, problem: string) => BottleError, otherOwner?: number): void {
  if (st.isSymbolicLink()) throw refuse(path, "is a symlink, not a directory (someone could point it at your files)");
  if (!st.isDirectory()) throw refuse(path, "is not a directory");
  if (st.uid !== myUid() && st.uid !== otherOwner) throw refuse(path, `belongs to uid ${st.uid}, not to you (uid ${myUid()}): its owner could read or replace bottle's files in it. Remove it (as its owner or root)`);
  if ((st.mode & 0o077) !== 0) {
    throw refuse(path, `has mode ${octal(st.mode)}: other users could read or change what is in it. If nobody else could have written there, \`chmod 700 ${path}\`; otherwise remove it`);
  }
}

function makeDir(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    // Someone made it meanwhile: it is checked like any existing level.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/** The level's lstat; a missing one is made (0700) when `create`, else null. */
function lstatOrMake(path: string, create: boolean | undefined): Stats | null {
  const st = lstatOrNull(path);
  if (st !== null || !create) return st;
  makeDir(path);
  return lstatSync(path);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "EACCES" || code === "ENOTDIR") throw new BottleError(`cannot check ${path} (${code}): bottle needs to see every directory on the way to its own`, { exitCode: EXIT_USAGE, cause: error });
    throw error;
  }
}

function byRootOrYou(st: Stats): boolean {
  return st.uid === 0 || st.uid === myUid();
}

function myUid(): number {
  return process.getuid?.() ?? -1;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** Reads a regular file without following a symlink at its name; null when it does not exist. */
export function readFileNoFollow(path: string): string | null {
  return readBytesNoFollow(path)?.toString("utf8") ?? null;
}

/** readFileNoFollow, as the file's bytes. */
export function readBytesNoFollow(path: string): Buffer | null {
  const fd = openRegularFileNoFollow(path);
  if (fd === null) return null;
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a regular file for reading without following a symlink at its name
 * (refused, as is anything but a regular file); null when it does not
 * exist. The caller closes the descriptor.
 */
export function openRegularFileNoFollow(path: string): number | null {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the name must not hang the read (it is refused below).
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new BottleError(`${path} is a symlink; bottle does not follow symlinks there. Remove it`);
    throw error;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new BottleError(`${path} is not a regular file; remove it`);
  }
  return fd;
}

/**
 * Opens a file to write (`flags` say how; O_NOFOLLOW and O_NONBLOCK are
 * added, O_TRUNC applies once the file has passed) without following a
 * symlink at its name. It must be a regular file with no other name: a
 * symlink, hard link or FIFO planted there (to ~/.bashrc, say, or one that
 * would block the open until someone reads it) is refused, never written
 * through or truncated. `what` names it in the refusal ("the
 * log"); any other error is thrown as it is.
 */
export function openOwnFileNoFollow(path: string, flags: number, what: string): number {
  const notPlain = (kind: string): BottleError => usageError(`refusing to write ${what} ${path}: it is not a plain file of its own (${kind}); remove it`);
  let fd: number;
  try {
    // O_NONBLOCK changes nothing for a regular file; a FIFO with no reader fails (ENXIO) instead of hanging.
    // O_TRUNC waits for the checks below: opened with it, a hard link's other file would be emptied before the refusal.
    fd = openSync(path, (flags & ~constants.O_TRUNC) | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw usageError(`refusing to write ${what} ${path}: it is a symlink (someone could point it at your files); remove it`);
    if (code === "ENXIO") throw notPlain("a FIFO");
    throw error;
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw notPlain(st.isFile() ? `${st.nlink} hard links` : "not a regular file");
  }
  if (flags & constants.O_TRUNC) ftruncateSync(fd, 0);
  return fd;
}

/**
 * What a relative path (its components) is to bottle: a file or directory it
 * makes, a "tree" it owns whole (a directory walked, or a file, at any depth),
 * or null for anything else.
 */
export type KnownName = (path: readonly string[]) => "file" | "dir" | "tree" | null;

/**
 * Deletes the files and directories `known` recognises under `root`, never
 * following a symlink (one at a known name is removed itself, not what it
 * points to), and leaves everything else. `root` goes too unless
 * `keepRoot`, once it is empty. Returns what was left.
 */
export function removeKnownFiles(root: string, known: KnownName, options: { keepRoot?: boolean } = {}): string[] {
  const kept: string[] = [];
  const walk = (dir: string, rel: readonly string[]): boolean => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw error;
    }
    let empty = true;
    for (const name of names) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const kind = known([...rel, name]);
      if ((kind === "dir" || kind === "tree") && st.isDirectory()) {
        if (walk(path, [...rel, name])) rmdirSync(path);
        else empty = false;
      } else if ((kind === "file" || kind === "tree") && !st.isDirectory()) {
        unlinkSync(path);
      } else {
        kept.push(path);
        empty = false;
      }
    }
    return empty;
  };
  if (walk(root, []) && !options.keepRoot) {
    try {
      rmdirSync(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return kept;
}

/** Makes (0700) or checks a sub-directory of a directory already checked private; returns its path. */
export function makePrivateSubdir(path: string): string {
  makeDir(path);
  const refuse = (at: string, problem: string): BottleError => usageError(`refusing to use ${at}: it ${problem}`);
  privateLevel(path, lstatSync(path), refuse);
  return path;
}
