// A stage dir says which bottle it belongs to: launch writes
// <stage>/bottle.json with the slug, and `rm` deletes a stage dir only when
// it names that bottle, so a registry entry pointing elsewhere deletes
// nothing.
import { basename, join } from "node:path";
import { STATE_FILE, STATE_FORMAT, writeFileAtomic } from "../../graph/index.js";
import { readFileNoFollow } from "../../private-dir.js";

export const STAGE_MARK = "bottle.json";
const MARK_FORMAT = "bottle-stage";

export function markStage(stageDir: string, slug: string): void {
  writeFileAtomic(join(stageDir, STAGE_MARK), `${JSON.stringify({ format: MARK_FORMAT, slug })}\n`);
}

/** Why `stageDir` is not `slug`'s stage dir, or null when it is. */
export function stageMarkProblem(stageDir: string, slug: string): string | null {
  const mark = parse(readFileNoFollow(join(stageDir, STAGE_MARK)));
  if (mark) return mark.format === MARK_FORMAT && mark.slug === slug ? null : `${join(stageDir, STAGE_MARK)} does not name the bottle \`${slug}\``;
  // A stage launched before bottle wrote the mark: its name and its state file must still say so.
  if (basename(stageDir) !== slug) return `it has no ${STAGE_MARK} naming \`${slug}\`, and it is not named ${slug}`;
  const state = parse(readFileNoFollow(join(stageDir, STATE_FILE)));
  if (state?.format !== STATE_FORMAT) return `it has neither a ${STAGE_MARK} naming \`${slug}\` nor a bottle ${STATE_FILE}`;
  return null;
}

function parse(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
