// Running a jailCommand() under the stand-in for bottle (jail-parent.ts).
import { fileURLToPath } from "node:url";
import type { JailCommand } from "../../src/backends/smolmachines/jail/index.js";

export const JAIL_PARENT = fileURLToPath(new URL("./jail-parent.js", import.meta.url));

/** The argv that starts `jail` with the stand-in as bwrap's parent. */
export function underJailParent(jail: JailCommand): [string, ...string[]] {
  return [process.execPath, JAIL_PARENT, JSON.stringify(jail)];
}
