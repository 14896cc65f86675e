// bottle's own install: the directory holding package.json and dist/.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function packageRoot(): string {
  // dist/src/lib/package-root.js (or the CLI's bundle, dist/src/cli-bundle/) → the package root.
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

/**
 * A compiled module of bottle's that runs as a program of its own, by its
 * path under src/ ("gitgate/main.js"). Not `new URL(…, import.meta.url)`:
 * in the CLI's bundle (scripts/bundle-cli.mjs) that names the bundle's dir.
 */
export function compiledProgram(path: string): string {
  return resolve(packageRoot(), "dist/src", path);
}

/** The version in bottle's own package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(resolve(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}
