// The stage dir: `<dir of the config>/.bottle/<slug>` (or --stage), the
// rendered files, the graph's state and lock, blocked.jsonl, logs/, guest/, tls/ and the
// git gate's mirrors. It says which bottle it belongs to (bottle.json, the
// stage mark) and `rm` deletes only the files named here, so a registry
// entry pointing elsewhere loses nothing bottle did not put there.
import { basename, join, resolve } from "node:path";
import { LOCK_FILE, STAMP_FILE, STATE_FILE, STATE_FORMAT } from "../../graph/index.js";
import { MIRRORS_DIR } from "../../gitgate/start.js";
import { isTempFileOf, writeFileAtomic } from "../../lib/atomic-write.js";
import { readFileNoFollow, type OwnedName } from "../../lib/no-follow.js";
import { checkPrivateDir } from "../../lib/private-dir.js";

export function stageDir(configDir: string, slug: string, override?: string): string {
  return override ? resolve(override) : join(configDir, ".bottle", slug);
}

/** The stage dir (default <config dir>/.bottle/<slug>, or --stage): the dir itself and its logs/, guest/ and git/ are bottle's own. */
export function checkStageDir(dir: string, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(dir, {
    what: "stage dir",
    privateLevels: 1,
    subdirs: ["logs", "guest", "git"],
    ...options,
    fix: "the stage holds the files that confine the guest and bottle writes logs there, so it must be yours alone, under directories nobody else can write; pass --stage a directory of your own",
  });
}

export const STAGE_MARK = "bottle.json";

/** The requests pipelock refused in the running or last session, one JSON object (a BlockedRecord) per line (blocked/). */
export const BLOCKED_FILE = "blocked.jsonl";

export function blockedFile(stageDir: string): string {
  return join(stageDir, BLOCKED_FILE);
}
const MARK_FORMAT = "bottle-stage";

export function markStage(stageDir: string, slug: string): void {
  writeFileAtomic(join(stageDir, STAGE_MARK), `${JSON.stringify({ format: MARK_FORMAT, slug })}\n`);
}

/** Why `stageDir` is not `slug`'s stage dir, or null when it is. */
export function stageMarkProblem(stageDir: string, slug: string): string | null {
  const mark = parse(readFileNoFollow(join(stageDir, STAGE_MARK)));
  if (mark) return mark.format === MARK_FORMAT && mark.slug === slug ? null : `${join(stageDir, STAGE_MARK)} does not name the bottle \`${slug}\``;
  // A stage launched before bottle wrote the mark: its name and its state file must still say so.
  if (basename(stageDir) !== slug) return `it has no ${STAGE_MARK} naming \`${slug}\`, and it is not named ${slug}`;
  const state = parse(readFileNoFollow(join(stageDir, STATE_FILE)));
  if (state?.format !== STATE_FORMAT) return `it has neither a ${STAGE_MARK} naming \`${slug}\` nor a bottle ${STATE_FILE}`;
  return null;
}

function parse(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const STAGE_FILES = new Set(["gvproxy.yaml", "smolfile.toml", "pipelock.yaml", "sidecars.json", STATE_FILE, STAMP_FILE, LOCK_FILE, STAGE_MARK, BLOCKED_FILE]);
const GUEST_FILES = new Set(["net-up.sh", "gvforwarder", "ca.pem"]);
const TLS_FILES = new Set(["ca.pem", "ca-key.pem"]);

/** A remote's mirror: <remote slug>.git. */
const MIRROR = /^[a-z0-9]+(?:-[a-z0-9]+)*\.git$/;

/** The stage dir: rendered files, state (and a state file set aside), the lock, blocked.jsonl, logs/<role>.log, guest/, tls/ (the bottle's CA), the git gate's mirrors. */
export const ownedInStageDir: OwnedName = (path) => {
  const [first, second, ...rest] = path;
  if (first === MIRRORS_DIR) return second === undefined ? "dir" : MIRROR.test(second) ? "tree" : null;
  // What an interrupted `pipelock tls init` left (bottle-ca.ts makes it with mkdtemp).
  if (second === undefined && /^\.tls-init-[A-Za-z0-9]{6}$/.test(first!)) return "tree";
  if (rest.length) return null;
  if (second === undefined) {
    if (first === "logs" || first === "guest" || first === "tls") return "dir";
    const setAside = first!.startsWith(`${STATE_FILE}.unreadable-`);
    return STAGE_FILES.has(first!) || setAside || isTempFileOf(first!, STAGE_FILES) ? "file" : null;
  }
  if (first === "logs") return /^[a-z0-9-]+\.log$/.test(second) ? "file" : null;
  if (first === "guest") return GUEST_FILES.has(second) || isTempFileOf(second, GUEST_FILES) ? "file" : null;
  if (first === "tls") return TLS_FILES.has(second) || isTempFileOf(second, TLS_FILES) ? "file" : null;
  return null;
};
