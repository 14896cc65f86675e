// What a config value was validated by: the compiled validator (validate.js
// and every module of bottle's it imports) and the versions of the packages
// that decide what it accepts. The config cache serves a validated value
// only to the validator that validated it; any other bottle (a newer schema,
// a changed rule, another zod or suffix list) evaluates and validates afresh.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../lib/hash.js";
import { staticImportGraph } from "./import-graph.js";

/** zod checks the shape; tldts's suffix list decides which wildcards are refused (egress-host.ts). */
const DEPENDENCIES = ["zod", "tldts"] as const;

/** In the CLI's bundle, the fingerprint as computed when it was built (scripts/bundle-cli.mjs): reading and hashing the sources costs milliseconds. */
declare const BOTTLE_VALIDATOR_FINGERPRINT: string | undefined;

let memo: string | undefined;

/** sha256 (hex) of the validator's sources and its dependencies' versions; the same for one install. */
export function validatorFingerprint(): string {
  if (typeof BOTTLE_VALIDATOR_FINGERPRINT === "string") return BOTTLE_VALIDATOR_FINGERPRINT;
  if (memo !== undefined) return memo;
  // From src/config/ and from the CLI's bundle (dist/src/cli-bundle/) alike.
  const entry = fileURLToPath(new URL("../config/validate.js", import.meta.url));
  // bottle's own modules only: packages are named by their version below.
  const { files } = staticImportGraph(entry, (specifier) => !specifier.startsWith("."));
  const require = createRequire(import.meta.url);
  const parts = files.map((file) => `${relative(dirname(files[0]!), file)}\n${readFileSync(file, "utf8")}`);
  for (const name of DEPENDENCIES) {
    const { version } = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { version: string };
    parts.push(`${name}@${version}`);
  }
  memo = sha256Hex(parts.join("\0"));
  return memo;
}
