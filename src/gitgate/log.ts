// The gate's log: one line per fetch, push and refusal, appended to
// <stage>/logs/git-gate.log by the gate and its hooks alike. Every line
// passes through redact() first: a ref name or an upstream's error may hold
// a secret. The file is opened once, without following a symlink at its
// name, and must be a regular file with no other name: a link planted there
// (pointing at ~/.bashrc, say) is refused, never written through (the same
// opener as the launch's logs).
import { constants, writeSync } from "node:fs";
import { BottleError, errorMessage } from "../lib/errors.js";
import { redact, type Needle } from "./secret-needles.js";
import { openOwnFileNoFollow } from "../lib/no-follow.js";

export type GateLog = (line: string) => void;

const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = constants;

/** The log's descriptor, or an Error whose message names the path and the fix. */
function openLog(path: string): number {
  try {
    // O_NONBLOCK: a FIFO planted at the name fails here instead of hanging the gate.
    return openOwnFileNoFollow(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, "the gate's log");
  } catch (error) {
    if (error instanceof BottleError) throw error;
    throw new Error(`cannot open the gate's log ${path}: ${errorMessage(error)}`);
  }
}

/** Opens the log (throwing when it is not safe to write) and returns its writer; the descriptor lives as long as the process. */
export function gateLog(path: string, needles: readonly Needle[]): GateLog {
  const fd = openLog(path);
  return (line) => {
    const clean = redact(line, needles).replace(/\s*\n\s*/g, " | ");
    writeSync(fd, `${new Date().toISOString()} ${clean}\n`);
  };
}
