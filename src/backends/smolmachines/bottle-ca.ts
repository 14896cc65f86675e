// The bottle's own certificate authority. pipelock opens the guest's HTTPS
// (TLS interception) and shows the guest a certificate for each site signed
// by this CA, so DLP sees what is sent inside HTTPS. The guest trusts the
// certificate (guest/ca.pem, mounted read-only); the key stays in the stage
// (tls/, 0600) and never enters the guest. One CA per bottle, made once by
// `pipelock tls init` (ECDSA P-256, the key in SEC1 form, as pipelock loads it).
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BottleError } from "../../lib/errors.js";
import { GUEST_CA_FILE } from "./guest-layout.js";
import { runShort } from "./process/short-run.js";
import { readFileNoFollow } from "../../lib/no-follow.js";

/** Relative to the stage dir. */
export const CA_FILES = { cert: "tls/ca.pem", key: "tls/ca-key.pem", guestCert: `guest/${GUEST_CA_FILE}` } as const;

/** Where pipelock finds the CA (its `ca_cert` and `ca_key`). */
export function caPaths(stageDir: string): { caCert: string; caKey: string } {
  return { caCert: join(stageDir, CA_FILES.cert), caKey: join(stageDir, CA_FILES.key) };
}

/**
 * A fresh CA from `pipelock tls init`, made in a private directory inside
 * the stage (0700, so the key is never where another user can read it) and
 * read back; the directory is removed whatever happens.
 */
export async function makeCa(pipelock: string, stageDir: string, organisation: string, signal: AbortSignal): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(stageDir, ".tls-init-"));
  const out = join(dir, "ca");
  try {
    const args = ["tls", "init", "--out", out, "--org", organisation];
    const run = await runShort(pipelock, args, { env: { HOME: dir }, signal, timeoutMs: 30_000 });
    signal.throwIfAborted();
    if (run.exitCode !== 0) {
      const said = run.stderr.trim() || run.spawnError || (run.timedOut ? "it did not finish within 30 s" : `exit code ${run.exitCode}`);
      throw new BottleError("tool-failed", `\`${pipelock} tls init\` failed, so the bottle has no CA for TLS interception: ${said}`, {
        detail: { program: pipelock, args, exitCode: run.exitCode, stderr: run.stderr },
      });
    }
    const cert = readFileNoFollow(join(out, "ca.pem"));
    const key = readFileNoFollow(join(out, "ca-key.pem"));
    if (cert === null || key === null) throw new BottleError("failed", `\`${pipelock} tls init\` wrote no ca.pem and ca-key.pem in ${out}`);
    return { cert, key };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
