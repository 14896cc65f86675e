// The names bottle creates in a run dir and in a stage dir. `rm` and the
// cleanup of a stale run dir delete these and nothing else, so a directory
// that is not what bottle made (a registry entry or a symlink pointing
// elsewhere) loses nothing bottle did not put there.
import type { KnownName } from "../../private-dir.js";
import { LOCK_FILE, STATE_FILE, tempFileTarget } from "../../graph/index.js";
import { STAGE_MARK } from "./stage-mark.js";
import { BLOCKED_FILE } from "./blocked/blocked-file.js";
import { RUNTIME_RECORD, CONTROL_SOCKET } from "./runtime-record.js";
import { GIT_GATE_SOCKET, MIRRORS_DIR } from "../../gitgate/start.js";
import { PIPELOCK_CONFIG, PIPELOCK_HOSTS, PIPELOCK_RUN_DIR, PIPELOCK_SECRETS } from "./pipelock-files.js";

/** A temp file writeFileAtomic left for one of `names`. */
function isTempOf(entry: string, names: ReadonlySet<string>): boolean {
  const target = tempFileTarget(entry);
  return target !== null && names.has(target);
}

const GVPROXY_FILES = new Set(["gvproxy.sock", "gvproxy.pid", "gvproxy.log"]);
const RUN_FILES = new Set([RUNTIME_RECORD, CONTROL_SOCKET, GIT_GATE_SOCKET, ...GVPROXY_FILES]);
const RELAY_SOCKET = /^\d{1,5}\.sock$/;
const PIPELOCK_FILES = new Set([PIPELOCK_CONFIG, PIPELOCK_SECRETS, PIPELOCK_HOSTS]);

/** The run dir: the record, the control socket, gvproxy's files and the relay sockets, directly or under jail/; pipelock's config and secrets under pipelock/. */
export const runDirFile: KnownName = (path) => {
  const [first, second, third, ...rest] = path;
  if (rest.length) return null;
  if (second === undefined) {
    if (first === "relays" || first === "jail" || first === PIPELOCK_RUN_DIR) return "dir";
    return RUN_FILES.has(first!) || isTempOf(first!, RUN_FILES) ? "file" : null;
  }
  if (first === PIPELOCK_RUN_DIR) return third === undefined && (PIPELOCK_FILES.has(second) || isTempOf(second, PIPELOCK_FILES)) ? "file" : null;
  if (first === "relays") return third === undefined && RELAY_SOCKET.test(second) ? "file" : null;
  if (first !== "jail") return null;
  if (third === undefined) {
    if (second === "relays") return "dir";
    return GVPROXY_FILES.has(second) || RELAY_SOCKET.test(second) ? "file" : null;
  }
  return second === "relays" && RELAY_SOCKET.test(third) ? "file" : null;
};

const STAGE_FILES = new Set(["gvproxy.yaml", "smolfile.toml", "pipelock.yaml", "sidecars.json", STATE_FILE, LOCK_FILE, STAGE_MARK, BLOCKED_FILE]);
const GUEST_FILES = new Set(["net-up.sh", "gvforwarder", "ca.pem"]);
const TLS_FILES = new Set(["ca.pem", "ca-key.pem"]);

/** A remote's mirror: <remote slug>.git. */
const MIRROR = /^[a-z0-9]+(?:-[a-z0-9]+)*\.git$/;

/** The stage dir: rendered files, state (and a state file set aside), the lock, blocked.jsonl, logs/<role>.log, guest/, tls/ (the bottle's CA), the git gate's mirrors. */
export const stageDirFile: KnownName = (path) => {
  const [first, second, ...rest] = path;
  if (first === MIRRORS_DIR) return second === undefined ? "dir" : MIRROR.test(second) ? "tree" : null;
  // What an interrupted `pipelock tls init` left (bottle-ca.ts makes it with mkdtemp).
  if (second === undefined && /^\.tls-init-[A-Za-z0-9]{6}$/.test(first!)) return "tree";
  if (rest.length) return null;
  if (second === undefined) {
    if (first === "logs" || first === "guest" || first === "tls") return "dir";
    const setAside = first!.startsWith(`${STATE_FILE}.unreadable-`);
    return STAGE_FILES.has(first!) || setAside || isTempOf(first!, STAGE_FILES) ? "file" : null;
  }
  if (first === "logs") return /^[a-z0-9-]+\.log$/.test(second) ? "file" : null;
  if (first === "guest") return GUEST_FILES.has(second) || isTempOf(second, GUEST_FILES) ? "file" : null;
  if (first === "tls") return TLS_FILES.has(second) || isTempOf(second, TLS_FILES) ? "file" : null;
  return null;
};
