// Where a launch's process logs go: <stage>/logs/<role>.log, fresh each
// launch. The stage and logs/ are checked private first, and a log is
// opened without following a symlink at its name: a link planted there
// (pointing at ~/.bashrc, say) is refused, never written through. The
// supervisor hands the child that open descriptor, not the path.
import { closeSync, constants, fchmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makePrivateSubdir } from "../../lib/private-dir.js";
import type { ChildLog } from "./process/supervisor.js";
import { openOwnFileNoFollow, readFileNoFollow } from "../../lib/no-follow.js";
import { checkStageDir } from "./stage-dir.js";

const { O_WRONLY, O_APPEND, O_CREAT, O_TRUNC } = constants;

/** <stage>/logs/<role>.log: where a process of that role logs. */
export function logPath(stageDir: string, role: string): string {
  return join(stageDir, "logs", `${role}.log`);
}

/**
 * An empty <stage>/logs/<role>.log, made safely and left open (appending):
 * the supervisor gives a child this descriptor and closes it. Whoever gets
 * it owns the descriptor.
 */
export function freshLog(stageDir: string, role: string): ChildLog {
  checkStageDir(stageDir, { create: true });
  makePrivateSubdir(join(stageDir, "logs"));
  const path = logPath(stageDir, role);
  const fd = openOwnFileNoFollow(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, "the log");
  fchmodSync(fd, 0o600);
  return { path, fd };
}

/** Keeps a copy of a log from the run dir (gone at teardown) as <stage>/logs/<role>.log; neither end follows a symlink. */
export function saveLogCopy(from: string, stageDir: string, role: string): void {
  const text = readFileNoFollow(from);
  if (text === null) return;
  const { fd } = freshLog(stageDir, role);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
