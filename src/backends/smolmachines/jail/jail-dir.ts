// The launcher's side of <run>/jail. Whatever runs in the jail can write
// there, so the launcher trusts no name in it: it starts from an empty
// directory, reads the jail's files without following symlinks, and hands
// the machine a hard link to gvproxy's socket that it has checked.
import { closeSync, constants, fstatSync, lchownSync, linkSync, lstatSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makePrivateSubdir } from "../../../lib/private-dir.js";
import { lastLines } from "../../../lib/text.js";
import { jailHostUid, type JailCredentials } from "./bwrap-args.js";
import { jailLayout, type JailLayout } from "./jail-layout.js";

/** A fresh, empty <run>/jail owned by this user, mode 0700 (whatever an earlier jail left there is removed). */
export function prepareJailDir(runDir: string): JailLayout {
  const layout = jailLayout(runDir);
  // rm does not follow symlinks: a planted link is removed, not its target.
  rmSync(layout.dir, { recursive: true, force: true });
  rmSync(layout.hostGvproxySocket, { force: true });
  makePrivateSubdir(layout.dir);
  return layout;
}

/**
 * Gives the jail dir, the relays dir and the relay sockets in it (all made
 * by bottle, still empty of anything the jail wrote) to the uid the jail
 * runs as, when that is not bottle's own (bottle runs as root): gvproxy
 * writes its files in jail/, and relay-inside dials the sockets. Each stays
 * 0700 or 0600, and the run dir above them stays bottle's alone.
 */
export function handOverJailDir(layout: JailLayout, credentials: JailCredentials): void {
  if (credentials.kind !== "drop") return;
  const give = (path: string): void => lchownSync(path, credentials.uid, credentials.gid);
  give(layout.dir);
  let sockets: string[] = [];
  try {
    sockets = readdirSync(layout.relayDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return;
  }
  give(layout.relayDir);
  for (const name of sockets) give(join(layout.relayDir, name));
}

/**
 * Links gvproxy's socket to <run>/gvproxy.sock once it is a socket of the
 * jail's uid (this user's, or nobody's when bottle runs as root). link()
 * does not follow a symlink, so a jail that swaps its socket for a link to
 * another program's socket (docker.sock, an ssh-agent) cannot hand that to
 * the machine; nor can it change the link afterwards.
 */
export function linkGvproxySocket(layout: JailLayout, credentials: JailCredentials): string {
  rmSync(layout.hostGvproxySocket, { force: true });
  linkSync(layout.gvproxySocket, layout.hostGvproxySocket);
  const stat = lstatSync(layout.hostGvproxySocket);
  const uid = process.getuid?.();
  if (!stat.isSocket() || (uid !== undefined && stat.uid !== jailHostUid(credentials, uid))) {
    rmSync(layout.hostGvproxySocket, { force: true });
    throw new Error(`${layout.gvproxySocket} is not a unix socket of the jail's user; gvproxy in its jail did not make it`);
  }
  return layout.hostGvproxySocket;
}

/**
 * The end of a file the jail wrote (the tail of gvproxy's log shown when it
 * fails to start), at most `maxBytes`, or
 * undefined when it is not a regular file: opened without following a
 * symlink and without blocking on a FIFO.
 */
export function readJailFile(path: string, maxBytes = 8 * 1024 * 1024): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const length = Math.min(stat.size, maxBytes);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, stat.size - length);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Text the jail wrote, made safe for a terminal: control characters other
 * than newline and tab (escape sequences could rewrite the screen or the
 * title, or feed a terminal's answerback) become "?".
 */
export function printableText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");
}

/** The last lines of a file the jail wrote, or "" (see readJailFile). */
export function jailFileTail(path: string, lines = 10): string {
  return lastLines(readJailFile(path, 64 * 1024)?.toString("utf8") ?? "", lines);
}
