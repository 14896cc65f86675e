// SHA-256 in the two spellings bottle needs. The engine's keys and stamps
// use base64url (43 characters, a third shorter than hex: state.json is read
// on every run); what other programs report or compare (pipelock logs its
// config's hash in hex) and file names use hex.
import { createHash } from "node:crypto";

/** SHA-256 as 43 base64url characters: the build graph's keys, file stamps and results. */
export function sha256Base64url(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("base64url");
}

/** SHA-256 as 64 lowercase hex digits: as `sha256sum` and pipelock print it. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
