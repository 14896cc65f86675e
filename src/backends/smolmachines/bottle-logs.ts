// `bottle logs`: a registered bottle's logs, one source per
// <stage>/logs/<source>.log (pipelock, gvproxy, jail, git-gate, injector,
// supervise), and, while it runs, when it stops.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { BottleLogs } from "../types.js";
import type { BottleEntry } from "../../registry.js";
import { bottleState } from "./lifecycle.js";
import { untilLauncherGone } from "./process/control.js";
import { registeredStage } from "./registered-stage.js";

const LOG_NAME = /^([a-z0-9-]+)\.log$/;

export function bottleLogs(entry: BottleEntry): BottleLogs {
  const dir = join(entry.stageDir, "logs");
  const sources = registeredStage(entry) === null ? [] : logSources(dir);
  const { state, record } = bottleState(entry);
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
