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
import { lstatSync, mkdirSync, readlinkSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { BottleError } from "./errors.js";

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
    new BottleError("unsafe-path", `refusing to use the ${spec.what} ${path}: ${at} ${problem}; ${spec.fix}`);
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
    if (code === "EACCES" || code === "ENOTDIR") throw new BottleError("unsafe-path", `cannot check ${path} (${code}): bottle needs to see every directory on the way to its own`, { cause: error });
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

/** Makes (0700) or checks a sub-directory of a directory already checked private; returns its path. */
export function makePrivateSubdir(path: string): string {
  makeDir(path);
  const refuse = (at: string, problem: string): BottleError => new BottleError("unsafe-path", `refusing to use ${at}: it ${problem}`);
  privateLevel(path, lstatSync(path), refuse);
  return path;
}
