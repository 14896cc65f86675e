// Writing a file so that readers see the old content or the new, never a
// torn file: a temp file in the same directory, then rename.
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

let tempCounter = 0;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${(tempCounter++).toString(36)}${randomBytes(3).toString("hex")}.bottle-tmp`);
}

/** The file name a temp file of tempPathFor's was made for, or null when `entry` is not one. */
export function tempFileTarget(entry: string): string | null {
  return /^\.(.+)\.\d+-[0-9a-z]+\.bottle-tmp$/.exec(entry)?.[1] ?? null;
}

/** `entry` is a temp file tempPathFor made for one of `names`. */
export function isTempFileOf(entry: string, names: ReadonlySet<string>): boolean {
  const target = tempFileTarget(entry);
  return target !== null && names.has(target);
}

/**
 * Writes a file atomically (mode 0600 unless told otherwise, whatever the
 * umask), making its directory (0700) if missing.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o600, options: { fsync?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = tempPathFor(path);
  const fd = openSync(temp, "wx", mode);
  try {
    fchmodSync(fd, mode);
    const data = typeof content === "string" ? Buffer.from(content) : content;
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    if (options.fsync) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    unlinkSync(temp);
    throw error;
  }
}

/** Removes a file if it is there; a missing one (or one that cannot be removed) is left to whoever comes next. */
export function removeFileQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
