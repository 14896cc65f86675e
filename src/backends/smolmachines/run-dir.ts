// The run dir: `$XDG_RUNTIME_DIR/bottle/<slug>`, else `/tmp/bottle-<uid>/<slug>`,
// holding the launch record, the control socket, pipelock's config and
// secrets, and the jail's sockets. Kept short, because unix socket paths are
// limited (104 bytes on macOS, 108 on Linux). `rm` and the cleanup of a
// stale run dir delete the files named here and nothing else.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GIT_GATE_SOCKET } from "../../gitgate/start.js";
import { isTempFileOf } from "../../lib/atomic-write.js";
import { usageError } from "../../lib/errors.js";
import type { OwnedName } from "../../lib/no-follow.js";
import { checkPrivateDir } from "../../lib/private-dir.js";
import { jailCredentials, jailHostUid } from "./jail/bwrap-args.js";
import { LONGEST_SOCKET_IN_RUN_DIR } from "./jail/jail-layout.js";
import { PIPELOCK_CONFIG, PIPELOCK_HOSTS, PIPELOCK_RUN_DIR, PIPELOCK_SECRETS } from "./pipelock-files.js";

/** The launch record (launch-record.ts). Its name is older than the record's: kept, so a record left by an earlier bottle is still found. */
export const LAUNCH_RECORD_FILE = "supervisor.json";
/** The control socket `bottle stop` and watch mode talk to (process/control.ts). */
export const CONTROL_SOCKET = "control.sock";

export function runDir(slug: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const base = runtime && existsSync(runtime) ? join(runtime, "bottle") : join("/tmp", `bottle-${process.getuid?.() ?? "user"}`);
  const dir = join(base, slug);
  const limit = platform === "darwin" ? 104 : 108;
  // sun_path includes the terminating NUL.
  if (Buffer.byteLength(join(dir, LONGEST_SOCKET_IN_RUN_DIR)) >= limit) {
    throw usageError(
      `the run dir ${dir} is too long for unix sockets (${limit - 1} bytes at most for ${join(dir, LONGEST_SOCKET_IN_RUN_DIR)}); set XDG_RUNTIME_DIR to a shorter directory`,
    );
  }
  return dir;
}

/**
 * Checks the run dir (see private-dir.ts): its last two levels
 * (bottle-<uid>/<slug>, or bottle/<slug> under XDG_RUNTIME_DIR) are bottle's
 * own. Its jail/ (and jail/relays) belong to the jail's uid while it runs,
 * which is nobody when bottle runs as root (jail-dir.ts, handOverJailDir).
 */
export function checkRunDir(dir: string, options: { create?: boolean } = {}): boolean {
  const uid = process.getuid?.() ?? -1;
  const jailUid = jailHostUid(jailCredentials(uid), uid);
  return checkPrivateDir(dir, {
    what: "run dir",
    privateLevels: 2,
    subdirs: ["relays", "jail", "jail/relays"],
    subdirOwners: { jail: jailUid, "jail/relays": jailUid },
    ...options,
    fix: "bottle keeps its sockets and pid records there, so it must be yours alone; set XDG_RUNTIME_DIR to a directory of your own (mode 0700) to use another place",
  });
}

const GVPROXY_FILES = new Set(["gvproxy.sock", "gvproxy.pid", "gvproxy.log"]);
const RUN_FILES = new Set([LAUNCH_RECORD_FILE, CONTROL_SOCKET, GIT_GATE_SOCKET, ...GVPROXY_FILES]);
const RELAY_SOCKET = /^\d{1,5}\.sock$/;
const PIPELOCK_FILES = new Set([PIPELOCK_CONFIG, PIPELOCK_SECRETS, PIPELOCK_HOSTS]);

/** The run dir: the record, the control socket, gvproxy's files and the relay sockets, directly or under jail/; pipelock's config and secrets under pipelock/. */
export const ownedInRunDir: OwnedName = (path) => {
  const [first, second, third, ...rest] = path;
  if (rest.length) return null;
  if (second === undefined) {
    if (first === "relays" || first === "jail" || first === PIPELOCK_RUN_DIR) return "dir";
    return RUN_FILES.has(first!) || isTempFileOf(first!, RUN_FILES) ? "file" : null;
  }
  if (first === PIPELOCK_RUN_DIR) return third === undefined && (PIPELOCK_FILES.has(second) || isTempFileOf(second, PIPELOCK_FILES)) ? "file" : null;
  if (first === "relays") return third === undefined && RELAY_SOCKET.test(second) ? "file" : null;
  if (first !== "jail") return null;
  if (third === undefined) {
    if (second === "relays") return "dir";
    return GVPROXY_FILES.has(second) || RELAY_SOCKET.test(second) ? "file" : null;
  }
  return second === "relays" && RELAY_SOCKET.test(third) ? "file" : null;
};
