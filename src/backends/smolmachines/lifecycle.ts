// stop, rm and status for a bottle found in the registry.
import { existsSync } from "node:fs";
import { BottleError, errorMessage, isBottleError, usageError } from "../../lib/errors.js";
import { listBottles, registryEntryProblem, registryFile, unregisterBottle, type BottleEntry } from "../../app/registry.js";
import { findOnPath, trustedSearchPath } from "../../lib/host-tools.js";
import { machineName } from "./guest-layout.js";
import { clearStale } from "./launch/run-record.js";
import { sendControl } from "./process/control.js";
import { Smolvm } from "./process/smolvm.js";
import { Supervisor } from "./process/supervisor.js";
import { launcherAlive, readRuntimeRecord, type RuntimeRecord } from "./runtime-record.js";
import { removeKnownFiles } from "../../lib/no-follow.js";
import { runDirFile, checkRunDir } from "./run-dir.js";
import { stageDirFile, stageMarkProblem, checkStageDir } from "./stage-dir.js";

export type BottleState = "running" | "stopped" | "stale";

/** The entry's state; a BottleError when its run dir is not the one bottle derives for it, or is unsafe. */
export function bottleState(entry: BottleEntry): { state: BottleState; record: RuntimeRecord | null; why?: string } {
  const problem = registryEntryProblem(entry);
  if (problem) throw usageError(`the registry entry for \`${entry.slug}\` cannot be trusted: ${problem}`);
  const record = readRuntimeRecord(entry.runDir);
  if (record && launcherAlive(record)) return { state: "running", record };
  if (record) return { state: "stale", record, why: `its launcher (pid ${record.pid}) died without cleaning up` };
  if (!existsSync(entry.stageDir)) return { state: "stale", record: null, why: `its stage dir ${entry.stageDir} is gone` };
  return { state: "stopped", record: null };
}

/** Asks the running bottle to tear down; resolves when it has. */
export async function stopBottle(entry: BottleEntry, say: (line: string) => void): Promise<void> {
  const { state, record } = bottleState(entry);
  if (state === "stopped") {
    say(`${entry.slug} is not running`);
    return;
  }
  if (state === "stale" || !record) {
    for (const line of clearStale(entry.runDir, record)) say(line);
    say(`${entry.slug} was not running (a stale record was cleared)`);
    return;
  }
  say(`stopping ${entry.slug} (pid ${record.pid})…`);
  let reply: string;
  try {
    reply = await sendControl(record.control);
  } catch (error) {
    // It may have finished by itself between the check and the request.
    if (bottleState(entry).state !== "running") {
      say(`${entry.slug} stopped by itself meanwhile`);
      return;
    }
    throw new BottleError(
      "failed",
      `could not reach ${entry.slug}'s launcher (pid ${record.pid}) at ${record.control}: ${errorMessage(error)}; if it is stuck, stop it with \`kill ${record.pid}\``,
      { cause: error },
    );
  }
  if (reply !== "stopped") throw new BottleError("failed", `${entry.slug} did not confirm the stop (it said: ${reply || "nothing"})`);
  say(`${entry.slug} stopped`);
}

/**
 * Deletes the machine, leftover processes, the run and stage dirs, and the
 * registry record. The entry is checked first (a valid slug, the run dir
 * bottle derives for it, a stage dir that names it, both private): a
 * hand-written entry pointing elsewhere is refused and nothing is deleted.
 * Even then only the files bottle makes are deleted.
 */
export async function removeBottle(entry: BottleEntry, say: (line: string) => void): Promise<void> {
  const problem = removalProblem(entry);
  if (problem) {
    throw usageError(`nothing was deleted for \`${entry.slug}\`: ${problem}. If its registry entry is wrong, delete ${registryFile(entry.slug)}`);
  }
  if (bottleState(entry).state === "running") await stopBottle(entry, say);
  for (const line of clearStale(entry.runDir, readRuntimeRecord(entry.runDir))) say(line);
  // Never a bare "smolvm": execa would find it on the raw PATH, workspaces' programs included.
  const searchPath = trustedSearchPath(listBottles().flatMap((other) => other.writable ?? []));
  const smolvmPath = findOnPath("smolvm", searchPath);
  const name = machineName(entry.slug);
  const notInstalled = `warning: smolvm is not installed, so machine ${name} (if any) was not deleted`;
  if (smolvmPath === null) say(notInstalled);
  else {
    // In "/": the stage dir is about to go, and the caller's directory may be a workspace.
    const smolvm = new Smolvm(new Supervisor({ searchPath, cwd: "/" }), smolvmPath);
    try {
      if (await smolvm.status(name)) {
        await smolvm.delete(name);
        say(`deleted machine ${name}`);
      }
    } catch (error) {
      if (!isBottleError(error, "missing-tool")) throw error;
      say(notInstalled);
    }
  }
  const kept = [...removeKnownFiles(entry.runDir, runDirFile), ...removeKnownFiles(entry.stageDir, stageDirFile)];
  say(`removed ${entry.stageDir}`);
  if (kept.length) say(`kept what bottle did not make: ${kept.join(", ")}`);
  unregisterBottle(entry.slug);
}

/** Why the entry's dirs may not be deleted as `entry.slug`'s, or null. */
function removalProblem(entry: BottleEntry): string | null {
  const problem = registryEntryProblem(entry);
  if (problem) return `its registry entry cannot be trusted: ${problem}`;
  try {
    checkRunDir(entry.runDir);
    if (!checkStageDir(entry.stageDir)) return null;
  } catch (error) {
    return errorMessage(error);
  }
  const mark = stageMarkProblem(entry.stageDir, entry.slug);
  return mark ? `${entry.stageDir} is not its stage dir: ${mark}` : null;
}
