// Running one task: the TaskRun it is given (writes only to its declared
// outputs, atomically), and what came of it: a JSON value and the files it
// wrote, or a failure with its reason.
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { errorMessage } from "../lib/errors.js";
import { sha256Base64url } from "../lib/hash.js";
import { jsonProblem, type Json } from "./json.js";
import { displayPath } from "./observe.js";
import type { TaskDef, TaskFailure, TaskRun, WriteOptions } from "./task.js";

export type Execution =
  /** `written`: each output (display path) and the hash of what was written. */
  | { ok: true; value: Json; written: ReadonlyMap<string, string> }
  | { ok: false; failure: TaskFailure };

export interface ExecuteInput<C, RC extends C> {
  def: TaskDef<C, RC>;
  ctx: RC;
  /** The stage dir. */
  root: string;
  /** The outputs it declares (display paths). */
  outputs: ReadonlySet<string>;
  needs: Readonly<Record<string, Json>>;
  previous: Json | undefined;
  signal: AbortSignal;
  log(message: string): void;
}

export async function executeTask<C, RC extends C>(input: ExecuteInput<C, RC>): Promise<Execution> {
  const { root, outputs, signal } = input;
  const written = new Map<string, string>();
  // A write outside its outputs breaks the task's contract even if the task catches the error.
  let undeclared: string | undefined;
  const write = (path: string, content: string | Uint8Array, options?: WriteOptions): void => {
    const { display, absolute } = displayPath(root, path);
    if (!outputs.has(display)) {
      undeclared ??= display;
      throw new Error(`wrote \`${display}\`, which it does not declare among its outputs`);
    }
    writeFileAtomic(absolute, content, options?.mode ?? 0o600);
    written.set(display, sha256Base64url(content));
  };
  const api: TaskRun<RC> = {
    ctx: input.ctx,
    needs: input.needs,
    previous: input.previous,
    signal,
    write,
    copy: (from, path, options) => write(path, readFileSync(from), options),
    path: (relative) => displayPath(root, relative).absolute,
    log: input.log,
  };

  let returned: Json | undefined;
  try {
    returned = await input.def.run(api);
  } catch (error) {
    const reason = undeclared !== undefined ? "undeclared-write" : signal.aborted ? "interrupted" : "threw";
    return { ok: false, failure: { reason, message: errorMessage(error), cause: error } };
  }
  if (undeclared !== undefined) return { ok: false, failure: { reason: "undeclared-write", message: `wrote \`${undeclared}\`, which it does not declare among its outputs` } };
  const value = returned === undefined ? null : returned;
  const notJson = jsonProblem(value);
  if (notJson !== null) return { ok: false, failure: { reason: "bad-result", message: notJson } };
  const missing = [...outputs].filter((file) => !written.has(file));
  if (missing.length) {
    return { ok: false, failure: { reason: "missing-output", message: `did not write its declared output${missing.length > 1 ? "s" : ""} ${missing.map((f) => `\`${f}\``).join(", ")}` } };
  }
  return { ok: true, value, written };
}
