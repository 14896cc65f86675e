// While a bottle runs: every request pipelock refuses, read from its log
// as it is written, goes into <stage>/blocked.jsonl (one JSON object per
// line, fresh at each launch) and into a tally for the summary at teardown.
// The log is opened once without following a symlink; blocked.jsonl is
// opened as the launch's logs are (no symlink, no second name, 0600).
import { closeSync, constants, fchmodSync, watch, writeSync, type FSWatcher } from "node:fs";
import { errorMessage } from "../../../lib/errors.js";
import { LineTail } from "../../../lib/line-tail.js";
import { openOwnFileNoFollow, openRegularFileNoFollow } from "../../../lib/no-follow.js";
import { blockedFile } from "../stage-dir.js";
import type { BlockedRecord } from "./records.js";
import { RefusalReader, type InjectorView } from "./refusals.js";
import { RefusalTally } from "./summary.js";

export interface RefusalFollower {
  /** Reads what pipelock wrote last, stops following and closes both files; returns the session's tally. */
  stop(): RefusalTally;
}

export interface FollowOptions {
  stageDir: string;
  /** pipelock's log (<stage>/logs/pipelock.log), already there. */
  logFile: string;
  injector: InjectorView | null;
  /** Said once if following fails (the launch goes on without it). */
  warn(message: string): void;
}

export function followRefusals(options: FollowOptions): RefusalFollower {
  const logFd = openRegularFileNoFollow(options.logFile);
  if (logFd === null) throw new Error(`${options.logFile} is missing: pipelock's log is opened before pipelock starts`);
  let outFd: number;
  try {
    outFd = openOwnFileNoFollow(blockedFile(options.stageDir), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_TRUNC, "the record of refused requests");
    fchmodSync(outFd, 0o600);
  } catch (error) {
    closeSync(logFd);
    throw error;
  }
  const tail = new LineTail(logFd);
  const reader = new RefusalReader(options.injector);
  const tally = new RefusalTally();
  let failed = false;
  const take = (line: string): void => {
    const record = reader.line(line);
    if (record === null) return;
    tally.add(record);
    writeRecord(outFd, record);
  };
  const pump = (): void => {
    if (failed) return;
    try {
      for (const line of tail.read()) take(line);
    } catch (error) {
      failed = true;
      options.warn(`stopped recording refused requests in ${blockedFile(options.stageDir)}: ${errorMessage(error)}`);
    }
  };
  let watcher: FSWatcher | null = watch(options.logFile, pump);
  watcher.on("error", (error) => {
    watcher?.close();
    watcher = null;
    options.warn(`stopped following ${options.logFile}: ${errorMessage(error)}; the refusals up to the teardown are still read then`);
  });
  // What pipelock wrote before the watch began.
  pump();
  return {
    stop() {
      watcher?.close();
      watcher = null;
      pump();
      try {
        if (!failed) take(tail.rest());
      } catch (error) {
        options.warn(`the last refused request may be missing from ${blockedFile(options.stageDir)}: ${errorMessage(error)}`);
      }
      closeSync(logFd);
      closeSync(outFd);
      return tally;
    },
  };
}

function writeRecord(fd: number, record: BlockedRecord): void {
  const line = Buffer.from(`${JSON.stringify(record)}\n`);
  let offset = 0;
  while (offset < line.length) offset += writeSync(fd, line, offset);
}
