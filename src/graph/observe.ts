// Gathers what planning needs to know about one task: its input values,
// the current content hashes of the files it reads, and whether each
// declared output is still what it wrote. This is the I/O half of planning;
// plan.ts is the pure half.
import { isAbsolute, relative, resolve } from "node:path";
import { isBelow } from "../lib/path-checks.js";
import { observeFile, type FileStamp } from "./files.js";
import { flattenInputs, hashJson, keyedRecord, type Json } from "./json.js";
import type { TaskRecord } from "./state.js";
import type { TaskDeclaration } from "./task.js";

export type OutputCheck =
  | { state: "ok"; stamp: FileStamp }
  | { state: "untracked" }
  | { state: "missing" }
  | { state: "modified" }
  | { state: "mode"; was: number; now: number };

export interface TaskFacts {
  /** Leaf input path → value. */
  inputs: Record<string, Json>;
  inputHashes: Record<string, string>;
  /** Display path → content hash ("" when missing). */
  reads: Record<string, string>;
  /** Display path → absolute path, for reads and writes. */
  paths: Record<string, string>;
  /** Declared outputs (display paths) and their state on disk. */
  outputs: Record<string, OutputCheck>;
  /** Stamps refreshed by re-hashing: worth saving so the next run can skip the hash. */
  refreshed: boolean;
}

// A path with no `.`, `..` or empty segments needs no resolving.
const PLAIN_RELATIVE = /^(?!\.{1,2}(?:\/|$))(?:[^/]+\/)*[^/]+$/;
const PLAIN_ABSOLUTE = /^(?:\/[^/]+)+$/;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

function isPlainAbsolute(path: string): boolean {
  return PLAIN_ABSOLUTE.test(path) && !DOT_SEGMENT.test(path);
}

let lastRoot = { root: "", plain: false };

/** Paths inside the stage dir are shown and stored relative to it. */
export function displayPath(root: string, path: string): { display: string; absolute: string; inside: boolean } {
  if (PLAIN_RELATIVE.test(path) && !DOT_SEGMENT.test(path)) return { display: path, absolute: `${root}/${path}`, inside: true };
  if (lastRoot.root !== root) lastRoot = { root, plain: isPlainAbsolute(root) };
  // Both already resolved: below the stage dir is starting with it and a slash, as path.relative would find.
  if (lastRoot.plain && isPlainAbsolute(path)) {
    const inside = path.startsWith(root) && path.charCodeAt(root.length) === 47; /* / */
    return { display: inside ? path.slice(root.length + 1) : path, absolute: path, inside };
  }
  const absolute = isAbsolute(path) ? resolve(path) : resolve(root, path);
  const inside = isBelow(root, absolute);
  return { display: inside ? relative(root, absolute) : absolute, absolute, inside };
}

export function observeTask<C>(
  def: TaskDeclaration<C>,
  ctx: C,
  root: string,
  record: TaskRecord | undefined,
  readCache: Record<string, FileStamp>,
): TaskFacts {
  const inputs = def.inputs ? flattenInputs(def.inputs(ctx)) : keyedRecord<Json>();
  const inputHashes = keyedRecord<string>();
  for (const key in inputs) inputHashes[key] = hashJson(inputs[key]);

  let refreshed = false;
  const paths = keyedRecord<string>();
  const reads = keyedRecord<string>();
  for (const path of def.reads?.(ctx) ?? []) {
    const { display, absolute } = displayPath(root, path);
    paths[display] = absolute;
    const seen = observeFile(absolute, readCache[absolute]);
    if (seen.exists) {
      reads[display] = seen.stamp.hash;
      if (seen.rehashed) {
        readCache[absolute] = seen.stamp;
        refreshed = true;
      }
    } else {
      reads[display] = "";
      if (readCache[absolute]) {
        delete readCache[absolute];
        refreshed = true;
      }
    }
  }

  const outputs = keyedRecord<OutputCheck>();
  for (const path of def.writes?.(ctx) ?? []) {
    const { display, absolute } = displayPath(root, path);
    paths[display] = absolute;
    const stored = record && Object.hasOwn(record.outputs, display) ? record.outputs[display] : undefined;
    if (!stored) {
      outputs[display] = { state: "untracked" };
      continue;
    }
    const seen = observeFile(absolute, stored);
    if (!seen.exists) outputs[display] = { state: "missing" };
    else if (seen.stamp.hash !== stored.hash) outputs[display] = { state: "modified" };
    else if (seen.stamp.mode !== stored.mode) outputs[display] = { state: "mode", was: stored.mode, now: seen.stamp.mode };
    else {
      outputs[display] = { state: "ok", stamp: seen.stamp };
      if (seen.rehashed && record) {
        record.outputs[display] = seen.stamp;
        refreshed = true;
      }
    }
  }
  return { inputs, inputHashes, reads, paths, outputs, refreshed };
}
