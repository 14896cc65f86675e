// bottle's own install: the directory holding package.json and dist/.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function packageRoot(): string {
  // dist/src/lib/package-root.js → the package root.
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

/** The version in bottle's own package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(resolve(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}
