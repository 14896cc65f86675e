// Reading pipelock's log (<stage>/logs/pipelock.log). pipelock writes JSON
// lines on stdout and plain text on stderr; the supervisor sends both there.
// Checked against the pinned binary (408651293dfc):
//   {"event":"startup",...,"config_hash":H}              it started on the config whose bytes hash to H
//   {"event":"config_reload","status":"success","config_hash":H}
//   {"event":"error","method":"CONFIG_RELOAD","error":"rejected: security downgrade from strict mode"}
//   pipelock: config reload failed: <why>                 (stderr: the file did not load)
//   {"event":"blocked","url"|"target":…,"scanner":…,"reason":…}
// H is the hex sha256 of the config file's bytes.

export interface PipelockEvent {
  event: string;
  [field: string]: unknown;
}

/** One of pipelock's JSON lines, or null for anything else (a stderr line, a torn last line). */
export function parsePipelockLine(line: string): PipelockEvent | null {
  if (!line.startsWith("{")) return null;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null && typeof (parsed as { event?: unknown }).event === "string" ? (parsed as PipelockEvent) : null;
  } catch {
    return null;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function loadedHash(line: string): string | null {
  const event = parsePipelockLine(line);
  if (event === null || typeof event.config_hash !== "string" || !SHA256_HEX.test(event.config_hash)) return null;
  if (event.event === "startup" || (event.event === "config_reload" && event.status === "success")) return event.config_hash;
  return null;
}

/** The hash of the config the running pipelock last loaded (at start or by a reload), or null when the log shows none. */
export function lastLoadedConfigHash(logText: string): string | null {
  const lines = logText.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const hash = loadedHash(lines[i]!);
    if (hash !== null) return hash;
  }
  return null;
}

export type ReloadOutcome = { applied: true } | { applied: false; rejected: string };

const STDERR_RELOAD_FAILURE = /^pipelock: config reload failed: (.*)$/;

/**
 * What the lines pipelock wrote after a config with hash `hash` was put in
 * place say about it: applied, rejected (and why), or null while they say
 * nothing yet. A success for another hash (an earlier write) is not ours.
 */
export function reloadOutcome(newLines: string, hash: string): ReloadOutcome | null {
  for (const line of newLines.split("\n")) {
    if (loadedHash(line) === hash) return { applied: true };
    const event = parsePipelockLine(line);
    if (event?.event === "error" && event.method === "CONFIG_RELOAD") return { applied: false, rejected: String(event.error ?? "rejected") };
    const failed = STDERR_RELOAD_FAILURE.exec(line);
    if (failed) return { applied: false, rejected: `the config did not load: ${failed[1]}` };
  }
  return null;
}
