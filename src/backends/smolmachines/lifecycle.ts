// stop, rm and state of a bottle, by its dirs. The app finds the bottle in
// the registry and checks its entry first (app/lifecycle.ts); here the run
// and stage dirs are checked again before anything in them is touched.
import { existsSync } from "node:fs";
import { BottleError, errorMessage, isBottleError, usageError } from "../../lib/errors.js";
import { findOnPath } from "../../lib/host-tools.js";
import { removeOwnedFiles } from "../../lib/no-follow.js";
import { machineName } from "./guest-layout.js";
import { clearStale, launcherAlive, readLaunchRecord, type LaunchRecord } from "./launch-record.js";
import { sendControl } from "./process/control.js";
import { Smolvm } from "./process/smolvm.js";
import { Supervisor } from "./process/supervisor.js";
import { checkRunDir, ownedInRunDir } from "./run-dir.js";
import { checkStageDir, ownedInStageDir, stageMarkProblem } from "./stage-dir.js";

export type BottleState = "running" | "stopped" | "stale";

/** Where a bottle is: what the registry says of it, once checked. */
export interface BottlePlace {
  slug: string;
  /** The config it was launched from (named in messages; never evaluated here). */
  configPath: string;
  runDir: string;
  stageDir: string;
}

/** The bottle's state; a BottleError when its run dir is unsafe. */
export function bottleState(place: BottlePlace): { state: BottleState; record: LaunchRecord | null; why?: string } {
  const record = readLaunchRecord(place.runDir);
  if (record && launcherAlive(record)) return { state: "running", record };
  if (record) return { state: "stale", record, why: `its launcher (pid ${record.pid}) died without cleaning up` };
  if (!existsSync(place.stageDir)) return { state: "stale", record: null, why: `its stage dir ${place.stageDir} is gone` };
  return { state: "stopped", record: null };
}

/**
 * The stage dir, for commands that read it (`blocked`, `logs`): yours alone
 * (checked as every command checks it) and its bottle.json naming the
 * bottle, so a hand-edited registry entry cannot point the command at
 * another directory. Null when it does not exist (yet, or any more).
 */
export function markedStageDir(place: BottlePlace): string | null {
  if (!checkStageDir(place.stageDir)) return null;
  const mark = stageMarkProblem(place.stageDir, place.slug);
  if (mark) throw usageError(`${place.stageDir} is not the stage dir of \`${place.slug}\`: ${mark}`);
  return place.stageDir;
}

/** Asks the running bottle to tear down; resolves when it has. A stale one is cleared instead. */
export async function stopBottle(place: BottlePlace, say: (line: string) => void): Promise<void> {
  const { state, record } = bottleState(place);
  if (state === "stopped") {
    say(`${place.slug} is not running`);
    return;
  }
  if (state === "stale" || !record) {
    for (const line of clearStale(place.runDir, record)) say(line);
    say(`${place.slug} was not running (a stale record was cleared)`);
    return;
  }
  say(`stopping ${place.slug} (pid ${record.pid})…`);
  let reply: string;
  try {
    reply = await sendControl(record.control);
  } catch (error) {
    // It may have finished by itself between the check and the request.
    if (bottleState(place).state !== "running") {
      say(`${place.slug} stopped by itself meanwhile`);
      return;
    }
    throw new BottleError(
      "failed",
      `could not reach ${place.slug}'s launcher (pid ${record.pid}) at ${record.control}: ${errorMessage(error)}; if it is stuck, stop it with \`kill ${record.pid}\``,
      { cause: error },
    );
  }
  if (reply !== "stopped") throw new BottleError("failed", `${place.slug} did not confirm the stop (it said: ${reply || "nothing"})`);
  say(`${place.slug} stopped`);
}

/** Why the bottle's dirs may not be deleted as `place.slug`'s (unsafe, or a stage dir that does not name it), or null. */
export function removalProblem(place: BottlePlace): string | null {
  try {
    checkRunDir(place.runDir);
    if (!checkStageDir(place.stageDir)) return null;
  } catch (error) {
    return errorMessage(error);
  }
  const mark = stageMarkProblem(place.stageDir, place.slug);
  return mark ? `${place.stageDir} is not its stage dir: ${mark}` : null;
}

/**
 * Deletes the machine, leftover processes and the files bottle makes in the
 * run and stage dirs (stopping the bottle first if it runs). The caller has
 * checked removalProblem. `searchPath` is where smolvm may be run from.
 */
export async function removeBottle(place: BottlePlace, searchPath: string, say: (line: string) => void): Promise<void> {
  if (bottleState(place).state === "running") await stopBottle(place, say);
  for (const line of clearStale(place.runDir, readLaunchRecord(place.runDir))) say(line);
  await deleteMachine(place.slug, searchPath, say);
  const kept = [...removeOwnedFiles(place.runDir, ownedInRunDir), ...removeOwnedFiles(place.stageDir, ownedInStageDir)];
  say(`removed ${place.stageDir}`);
  if (kept.length) say(`kept what bottle did not make: ${kept.join(", ")}`);
}

async function deleteMachine(slug: string, searchPath: string, say: (line: string) => void): Promise<void> {
  // Never a bare "smolvm": execa would find it on the raw PATH, workspaces' programs included.
  const smolvmPath = findOnPath("smolvm", searchPath);
  const name = machineName(slug);
  const notInstalled = `warning: smolvm is not installed, so machine ${name} (if any) was not deleted`;
  if (smolvmPath === null) return say(notInstalled);
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
