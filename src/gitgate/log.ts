// The gate's log: one line per fetch, push and refusal, appended to
// <stage>/logs/git-gate.log by the gate and its hooks alike. Every line
// passes through redact() first: a ref name or an upstream's error may hold
// a secret. The file is opened once, without following a symlink at its
// name, and must be a regular file with no other name: a link planted there
// (pointing at ~/.bashrc, say) is refused, never written through (the same
// rule as the launch's logs.ts, which this entry script may not import).
// node: imports only.
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { redact, type Needle } from "./secret-needles.js";

export type GateLog = (line: string) => void;

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = constants;

/** The log's descriptor, or an Error whose message names the path and the fix. */
function openLog(path: string): number {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the name fails here instead of hanging the gate.
    fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new Error(`refusing to write the gate's log ${path}: it is a symlink (someone could point it at your files); remove it`);
    throw new Error(`cannot open the gate's log ${path}: ${(error as Error).message}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw new Error(`refusing to write the gate's log ${path}: it is not a plain file of its own (${st.isFile() ? `${st.nlink} hard links` : "not a regular file"}); remove it`);
  }
  return fd;
}

/** Opens the log (throwing when it is not safe to write) and returns its writer; the descriptor lives as long as the process. */
export function gateLog(path: string, needles: readonly Needle[]): GateLog {
  const fd = openLog(path);
  return (line) => {
    const clean = redact(line, needles).replace(/\s*\n\s*/g, " | ");
    writeSync(fd, `${new Date().toISOString()} ${clean}\n`);
  };
}
