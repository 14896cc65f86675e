// The guest's file system, as bubblewrap arguments: the host's root,
// read-only, with the machine's own mounts on top. bwrap cannot create a
// mount point inside a read-only bind (/workspace, /opt/bottle), so each
// directory on the way to a mount point is rebuilt as a fresh directory whose
// other entries are bound read-only one by one.
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";

export interface GuestMount {
  host: string;
  guest: string;
  readOnly: boolean;
}

export interface GuestFsSpec {
  /** The Smolfile's volumes. */
  volumes: readonly GuestMount[];
  /** --mount-socket HOST:GUEST pairs. */
  sockets: readonly { host: string; guest: string }[];
  /** A host file bound writable at the guest's /etc/resolv.conf. */
  resolvConf: string;
}

/** Private and writable in the guest, never the host's: scratch space, and the homes (the host's secrets live there). */
export const PRIVATE_DIRS = ["/tmp", "/run", "/var/tmp", "/root", "/home"] as const;

function ancestors(path: string): string[] {
  const found: string[] = [];
  for (let dir = dirname(path); dir !== "/"; dir = dirname(dir)) found.push(dir);
  return found;
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The host's root, read-only, leaving room for a mount at each of `targets`. */
export function readOnlyRootArgs(targets: readonly string[]): string[] {
  const covered = new Set(["/proc", "/dev", ...PRIVATE_DIRS, ...targets]);
  const rebuilt = new Set([...covered].flatMap(ancestors));
  const args: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (covered.has(path)) continue;
      const stat = lstatOrNull(path);
      if (!stat) continue;
      if (rebuilt.has(path) && stat.isDirectory()) {
        args.push("--dir", path);
        walk(path);
      } else if (stat.isSymbolicLink()) {
        args.push("--symlink", readlinkSync(path), path);
      } else {
        args.push("--ro-bind", path, path);
      }
    }
  };
  walk("/");
  return args;
}

export function guestFsArgs(spec: GuestFsSpec): string[] {
  const targets = ["/etc/resolv.conf", ...spec.volumes.map((v) => v.guest), ...spec.sockets.map((s) => s.guest)];
  return [
    ...readOnlyRootArgs(targets),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    // bwrap's /dev is nodev, so a tun node made with mknod there cannot be
    // opened; the host's clone device makes TAP devices in the guest's own
    // network namespace.
    "--dev-bind",
    "/dev/net/tun",
    "/dev/net/tun",
    ...PRIVATE_DIRS.flatMap((dir) => ["--tmpfs", dir]),
    "--bind",
    spec.resolvConf,
    "/etc/resolv.conf",
    ...spec.volumes.flatMap((v) => [v.readOnly ? "--ro-bind" : "--bind", v.host, v.guest]),
    ...spec.sockets.flatMap((s) => ["--bind", s.host, s.guest]),
    // The rebuilt directories live on bwrap's root tmpfs: read-only too.
    "--remount-ro",
    "/",
  ];
}
