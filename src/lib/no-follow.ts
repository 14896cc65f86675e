// Reading, writing and deleting bottle's own files without following a
// symlink someone put at their name: a link planted in a shared directory
// (pointing at ~/.bashrc, say) is refused or removed itself, never followed.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { BottleError } from "./errors.js";

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
    if (code === "ELOOP") throw new BottleError("failed", `${path} is a symlink; bottle does not follow symlinks there. Remove it`);
    throw error;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new BottleError("failed", `${path} is not a regular file; remove it`);
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
  const notPlain = (kind: string): BottleError => new BottleError("unsafe-path", `refusing to write ${what} ${path}: it is not a plain file of its own (${kind}); remove it`);
  let fd: number;
  try {
    // O_NONBLOCK changes nothing for a regular file; a FIFO with no reader fails (ENXIO) instead of hanging.
    // O_TRUNC waits for the checks below: opened with it, a hard link's other file would be emptied before the refusal.
    fd = openSync(path, (flags & ~constants.O_TRUNC) | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new BottleError("unsafe-path", `refusing to write ${what} ${path}: it is a symlink (someone could point it at your files); remove it`);
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
export type OwnedName = (path: readonly string[]) => "file" | "dir" | "tree" | null;

/**
 * Deletes the files and directories `known` recognises under `root`, never
 * following a symlink (one at a known name is removed itself, not what it
 * points to), and leaves everything else. `root` goes too unless
 * `keepRoot`, once it is empty. Returns what was left.
 */
export function removeOwnedFiles(root: string, known: OwnedName, options: { keepRoot?: boolean } = {}): string[] {
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
