// File fingerprints with a stat fast path.
//
// A stamp records a file's content hash with the stat fields that change
// whenever it is written (size, mtime, ctime, inode). A later stat that
// matches lets us skip re-hashing, except for a stamp taken within
// RACY_WINDOW_MS of the file's mtime: file-system clocks are coarse, so a
// same-size write in that window could leave every stat field unchanged.
import { readFileSync, statSync, type Stats } from "node:fs";
import { sha256Base64url } from "../lib/hash.js";

export const RACY_WINDOW_MS = 1000;

export interface FileStamp {
  hash: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
  /** The stamp was taken too close to the file's mtime to trust the stat fast path. */
  racy?: boolean;
}

export type Observed = { exists: false } | { exists: true; stamp: FileStamp; rehashed: boolean };

/** The file's stat, or null when it is not there (ENOTDIR counts as not there); any other error is thrown. */
export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw error;
  }
}

function sameStat(stamp: FileStamp, st: Stats): boolean {
  return (
    !stamp.racy &&
    stamp.size === st.size &&
    stamp.mtimeMs === st.mtimeMs &&
    stamp.ctimeMs === st.ctimeMs &&
    stamp.ino === st.ino &&
    stamp.mode === (st.mode & 0o7777)
  );
}

export function stampFromStat(hash: string, st: Stats, now = Date.now()): FileStamp {
  const stamp: FileStamp = {
    hash,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    mode: st.mode & 0o7777,
  };
  if (now - Math.max(st.mtimeMs, st.ctimeMs) < RACY_WINDOW_MS) stamp.racy = true;
  return stamp;
}

/** Current stamp of a file, re-using `known` when its stat still matches. */
export function observeFile(path: string, known?: FileStamp): Observed {
  const st = statOrNull(path);
  if (!st || !st.isFile()) return { exists: false };
  if (known && sameStat(known, st)) return { exists: true, stamp: known, rehashed: false };
  const hash = sha256Base64url(readFileSync(path));
  // Stat again: a write between the first stat and the read must not pair
  // the new content with the old stat.
  const after = statSync(path);
  return { exists: true, stamp: stampFromStat(hash, after), rehashed: true };
}
