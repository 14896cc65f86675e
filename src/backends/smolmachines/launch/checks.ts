// What must hold before a launch starts anything.
import { BottleError } from "../../../errors.js";
import { listBottles } from "../../../registry.js";
import { formatPreflight, type PreflightResult } from "../preflight.js";
import { liveRuntimeRecord } from "../runtime-record.js";

export function assertPreflight(result: PreflightResult): void {
  if (result.ok) return;
  throw new BottleError(`${formatPreflight(result, { backendEnv: "BOTTLE_BACKEND", backend: "smolmachines" })}\nNothing was started.`);
}

/** Two bottles on one subnet would fight over the same addresses (the seed's promise). */
export function assertSubnetFree(slug: string, octet: number): void {
  for (const other of listBottles()) {
    if (other.slug === slug) continue;
    const running = liveRuntimeRecord(other.runDir);
    if (running && running.octet === octet) {
      throw new BottleError(
        `subnet 192.168.${octet}.0/24 is in use by the running bottle \`${other.slug}\` (pid ${running.pid}); stop it with \`bottle stop ${other.slug}\`, or give this bottle another subnet with \`network: { subnetOctet: N }\` in its config`,
      );
    }
  }
}
