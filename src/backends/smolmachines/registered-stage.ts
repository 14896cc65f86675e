// The stage dir of a bottle found in the registry, for commands that read
// it (`blocked`, `logs`): its entry must be one bottle derives itself, the
// stage yours alone (checked as every command checks it), and its
// bottle.json must name the bottle, so a hand-edited entry cannot point the
// command at another directory.
import { usageError } from "../../errors.js";
import { checkStageDir } from "../../paths.js";
import { registryEntryProblem, type BottleEntry } from "../../registry.js";
import { stageMarkProblem } from "./stage-mark.js";

/** The entry's stage dir; null when it does not exist (yet, or any more). A BottleError when it cannot be trusted. */
export function registeredStage(entry: BottleEntry): string | null {
  const problem = registryEntryProblem(entry);
  if (problem) throw usageError(`the registry entry for \`${entry.slug}\` cannot be trusted: ${problem}`);
  if (!checkStageDir(entry.stageDir)) return null;
  const mark = stageMarkProblem(entry.stageDir, entry.slug);
  if (mark) throw usageError(`${entry.stageDir} is not the stage dir of \`${entry.slug}\`: ${mark}`);
  return entry.stageDir;
}
