// Which host directories the Linux jail hides, and what it binds back.
// The jail's root is the host's, read-only; gvproxy needs none of the
// places where people keep secrets or where other programs listen on unix
// sockets (docker.sock, ssh-agent), so those are replaced by empty
// read-only tmpfs mounts.
import { lstatSync } from "node:fs";
import { resolve } from "node:path";

export const MASK_CANDIDATES = ["/home", "/root", "/tmp", "/var/tmp", "/run", "/mnt", "/media"] as const;

function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The candidates that exist as real directories (a symlinked /home is left alone). */
export function existingMasks(candidates: readonly string[] = MASK_CANDIDATES): string[] {
  return candidates.filter(isRealDirectory);
}

/** bottle's own install (the relay scripts and the package.json that makes them ESM). */
export { packageRoot } from "../../../package-root.js";

/** The paths the jailed command needs that may sit under a mask. */
export function jailReadOnlyPaths(needed: readonly string[], masks: readonly string[]): string[] {
  const under = (path: string): boolean => masks.some((mask) => path === mask || path.startsWith(`${mask}/`));
  return [...new Set(needed.map((p) => resolve(p)))].filter(under).sort();
}
