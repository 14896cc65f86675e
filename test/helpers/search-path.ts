// trustedSearchPath as the host-tools tests call it: PATH only (no tools
// dir), with the warnings it printed on stderr caught.
import { trustedSearchPath } from "../../src/lib/host-tools.js";

export function searchPath(guestWritable: readonly string[], PATH: string): { path: string; warnings: string } {
  const write = process.stderr.write;
  let warnings = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    warnings += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { path: trustedSearchPath(guestWritable, { PATH, BOTTLE_TOOLS_DIR: "" }), warnings };
  } finally {
    process.stderr.write = write;
  }
}
