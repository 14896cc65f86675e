// bottle's own install: the directory holding package.json and dist/.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function packageRoot(): string {
  // dist/src/lib/package-root.js → the package root.
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}
