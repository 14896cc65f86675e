// What pipelock's log (<stage>/logs/pipelock.log: its JSON lines on stdout,
// its banner and warnings on stderr) says about the config it runs with.
// Measured on the pinned binary: it logs
//   {"event":"startup",...,"config_hash":H}
// when it starts and
//   {"event":"config_reload","status":"success",...,"config_hash":H}
// after each reload it accepted, where H is the hex sha256 of the config
// file's bytes; a refused reload logs an `error` event and keeps the old
// config. Lines are JSON written by pipelock itself (the guest's hosts and
// paths appear only inside its string values), so a line is trusted only as
// a whole JSON object whose own `event` field says what it is.

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The sha256 of the config pipelock last loaded (at startup or an accepted reload), or null when the log shows none. */
export function lastLoadedConfigHash(logText: string): string | null {
  let last: string | null = null;
  for (const line of logText.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry !== "object" || entry === null) continue;
    const { event, status, config_hash: hash } = entry as Record<string, unknown>;
    const loaded = event === "startup" || (event === "config_reload" && status === "success");
    if (loaded && typeof hash === "string" && SHA256_HEX.test(hash)) last = hash;
  }
  return last;
}
