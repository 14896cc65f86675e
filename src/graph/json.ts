// JSON values, canonical JSON (object keys sorted at every level) and the
// SHA-256 digests the engine keys on.
import { sha256Base64url } from "../lib/hash.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A record keyed by names the engine does not choose (task names, file
 * paths), with no prototype, so a task named `__proto__` or `constructor`
 * is a key like any other. Copies `from`'s own entries when given.
 */
export function keyedRecord<T>(from?: Readonly<Record<string, T>>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  if (from) for (const [key, value] of Object.entries(from)) record[key] = value;
  return record;
}

export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`cannot fingerprint the number ${value}`);
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`cannot fingerprint a ${typeof value}`);
  }
}

/** Why `value` cannot be stored and fingerprinted as JSON (a function, NaN, a cycle…), or null when it can. */
export function jsonProblem(value: unknown): string | null {
  try {
    canonicalJson(value);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function hashJson(value: unknown): string {
  return sha256Base64url(canonicalJson(value));
}

/**
 * Flattens an input object into leaf paths (`agent.env.FOO`) so a changed
 * input can be named precisely. Arrays and scalars are leaves.
 */
export function flattenInputs(value: Json, prefix = "", out: Record<string, Json> = keyedRecord()): Record<string, Json> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix) out[prefix] = value;
    for (const key of keys) flattenInputs(value[key] as Json, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out[prefix] = value;
  }
  return out;
}
