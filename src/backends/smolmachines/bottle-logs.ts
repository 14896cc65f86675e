// `bottle logs`: a registered bottle's logs, one source per
// <stage>/logs/<source>.log (pipelock, gvproxy, jail, git-gate, injector,
// supervise), and, while it runs, when it stops.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bottleState, markedStageDir, type BottlePlace } from "./lifecycle.js";
import { untilLauncherGone } from "./process/control.js";

/** A bottle's logs, one source per <stage>/logs/<source>.log (`bottle logs`). */
export interface BottleLogs {
  dir: string;
  sources: { name: string; path: string }[];
  /**
   * While the bottle runs: resolves when it has stopped (or `signal` aborts).
   * Null when it is not running.
   */
  untilStopped: ((signal: AbortSignal) => Promise<void>) | null;
}

const LOG_NAME = /^([a-z0-9-]+)\.log$/;

export function bottleLogs(place: BottlePlace): BottleLogs {
  const dir = join(place.stageDir, "logs");
  const sources = markedStageDir(place) === null ? [] : logSources(dir);
  const { state, record } = bottleState(place);
  const control = state === "running" ? record?.control : undefined;
  return { dir, sources, untilStopped: control === undefined ? null : (signal) => untilLauncherGone(control, signal) };
}

/** The logs there are (regular files only: anything else at a log's name is not one), by name. */
function logSources(dir: string): { name: string; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .sort()
    .flatMap((file) => {
      const name = LOG_NAME.exec(file)?.[1];
      return name !== undefined && lstatSync(join(dir, file)).isFile() ? [{ name, path: join(dir, file) }] : [];
    });
}
