// `ls`, `stop` and `rm` for bottles found in the registry. An entry is
// trusted only as far as it agrees with what bottle derives itself
// (registry.ts, registryEntryProblem): it is checked before its backend
// touches the dirs it names.
import type { BlockedReport } from "../backends/smolmachines/blocked/records.js";
import type { BottleLogs } from "../backends/smolmachines/bottle-logs.js";
import type { BottlePlace } from "../backends/smolmachines/lifecycle.js";
import { BottleError, usageError } from "../lib/errors.js";
import { trustedSearchPath } from "../lib/host-tools.js";
import { loadBackend, type BottleStatus } from "./backends.js";
import type { FoundBottle } from "./find-bottle.js";
import { findBottle, listBottles, registryEntryProblem, registryFile, unregisterBottle, type BottleEntry } from "./registry.js";

function placeOf(entry: BottleEntry): BottlePlace {
  return { slug: entry.slug, configPath: entry.configPath, runDir: entry.runDir, stageDir: entry.stageDir };
}

/** The entry's place, once it is found trustworthy; a BottleError (usage) saying why not. */
function trustedPlace(entry: BottleEntry): BottlePlace {
  const problem = registryEntryProblem(entry);
  if (problem) throw usageError(`the registry entry for \`${entry.slug}\` cannot be trusted: ${problem}`);
  return placeOf(entry);
}

/** For `ls`: the state of a registered bottle, or "refused" with why. */
export async function statusOf({ entry, backend }: FoundBottle): Promise<BottleStatus> {
  try {
    return await backend.state(trustedPlace(entry));
  } catch (error) {
    if (error instanceof BottleError) return { state: "refused", why: error.message };
    throw error;
  }
}

/** For `ls`: every registered bottle with its state. */
export async function listRegistered(): Promise<{ entry: BottleEntry; status: BottleStatus }[]> {
  const rows = [];
  for (const entry of listBottles()) rows.push({ entry, status: await statusOf({ entry, backend: await loadBackend(entry.backend) }) });
  return rows;
}

/** `bottle blocked`: what pipelock refused in the bottle's running or last session. */
export async function refusalsOf({ entry, backend }: FoundBottle): Promise<BlockedReport> {
  return backend.blocked(trustedPlace(entry));
}

/** `bottle logs`: the bottle's log files, and while it runs, when it stops. */
export async function logsOf({ entry, backend }: FoundBottle): Promise<BottleLogs> {
  return backend.logs(trustedPlace(entry));
}

/** `bottle stop`: asks the running bottle to tear down (or clears a stale one). */
export async function stopRegistered({ entry, backend }: FoundBottle, say: (line: string) => void): Promise<void> {
  await backend.stop(trustedPlace(entry), say);
}

/**
 * `bottle rm`: deletes the bottle's machine, leftover processes, the files
 * bottle made in its run and stage dirs, and its registry entry. The entry
 * is checked first (a valid slug, the run dir bottle derives for it, a
 * stage dir that names it, both private): a hand-written entry pointing
 * elsewhere is refused and nothing is deleted.
 */
export async function removeRegistered({ entry, backend }: FoundBottle, say: (line: string) => void): Promise<void> {
  const entryProblem = registryEntryProblem(entry);
  const problem = entryProblem ? `its registry entry cannot be trusted: ${entryProblem}` : await backend.removalProblem(placeOf(entry));
  if (problem) {
    const fix = findBottle(entry.slug) ? `If its registry entry is wrong, delete ${registryFile(entry.slug)}` : "It is not registered (a bottle only built); delete that directory yourself if it is yours";
    throw usageError(`nothing was deleted for \`${entry.slug}\`: ${problem}. ${fix}`);
  }
  // Where smolvm may be run from: PATH without any registered bottle's workspace.
  const searchPath = trustedSearchPath(listBottles().flatMap((other) => other.writable ?? []));
  await backend.remove(placeOf(entry), searchPath, say);
  unregisterBottle(entry.slug);
}
