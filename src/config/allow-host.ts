// `bottle allow NAME HOST`: the config edit `bottle blocked` suggests, made
// for the user. The file is edited as text (allow-edit.ts), replaced
// atomically with its mode (and owner) kept, and then loaded again through
// bottle's loader: the edit stands only if the config now allows exactly
// what it did plus HOST, and nothing else changed; otherwise the original
// bytes are put back. A symlink at the config's name is never edited
// through.
import { chownSync, lstatSync, readlinkSync, type Stats } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { BottleError, errorMessage } from "../lib/errors.js";
import { readBytesNoFollow } from "../lib/no-follow.js";
import { addAllowedHost } from "./allow-edit.js";
import { allowedHosts, describeSource } from "./egress-presets.js";
import { loadConfig, type LoadOptions } from "./load.js";
import type { BottleConfig } from "./resolved.js";

export type AllowOutcome =
  /** `by` says which entry allows it already (`egress.allow[0]`, `preset claude-code@1`, `egress.passthrough[0]`). */
  | { state: "already"; by: string }
  | { state: "added"; line: number }
  /** Not a shape bottle edits: `instruction` says exactly what to add where. */
  | { state: "not-edited"; why: string; instruction: string };

export interface AllowOptions {
  /** The bottle the config must be for (its registry entry's name). */
  slug: string;
  /** The loader's workspace guards, as every command that evaluates a config passes them. */
  load: Pick<LoadOptions, "guardedDirs" | "warn">;
}

/** Adds `host` (validated as egress.allow validates it) to the config at `path`. */
export async function allowHostInConfig(path: string, host: string, options: AllowOptions): Promise<AllowOutcome> {
  const st = lstatOrNull(path);
  if (st === null) throw new BottleError("failed", `${path}, the config \`${options.slug}\` was launched from, does not exist any more; nothing was changed`);
  if (st.isSymbolicLink()) {
    throw new BottleError("failed", `refusing to edit ${path}: it is a symlink (to ${readlinkSync(path)}), and bottle does not edit through one; edit the file it points to yourself (add ${JSON.stringify(host)} to egress.allow)`);
  }
  if (!st.isFile()) throw new BottleError("failed", `refusing to edit ${path}: it is not a regular file`);
  const original = readBytesNoFollow(path)!;
  const before = await load(path, options, true);
  const by = allowedBy(before, host);
  if (by !== null) return { state: "already", by };

  const edit = addAllowedHost(original.toString("utf8"), host, path);
  if (!edit.ok) return { state: "not-edited", why: edit.why, instruction: edit.instruction };
  if (!original.equals(readBytesNoFollow(path) ?? Buffer.alloc(0))) throw new BottleError("failed", `${path} changed while bottle was editing it; nothing was written. Run the command again`);
  const mode = st.mode & 0o7777;
  replace(path, edit.text, mode, st);
  let problem: string | null;
  try {
    problem = difference(before, await load(path, options, false), host);
  } catch (error) {
    problem = `it no longer loads: ${errorMessage(error)}`;
  }
  if (problem !== null) {
    replace(path, original, mode, st);
    throw new BottleError("failed", `the edit of ${path} was undone (the file is as it was): ${problem}. Add ${JSON.stringify(host)} to egress.allow yourself`);
  }
  return { state: "added", line: edit.line };
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function load(path: string, options: AllowOptions, cache: boolean): Promise<BottleConfig> {
  const { config } = await loadConfig(path, { ...options.load, cache });
  if (config.name !== options.slug) throw new BottleError("failed", `${path} is the config of \`${config.name}\`, not of \`${options.slug}\`; nothing was changed`);
  return config;
}

/** Where the config already lets `host` through (pipelock's matching: `*.x` covers x and every name under it), or null. */
function allowedBy(config: BottleConfig, host: string): string | null {
  const matches = (pattern: string): boolean => {
    const bare = host.replace(/^\*\./, "");
    if (pattern.startsWith("*.")) return bare === pattern.slice(2) || bare.endsWith(pattern.slice(1));
    return !host.startsWith("*.") && host === pattern;
  };
  for (const { host: pattern, from } of allowedHosts(config.egress)) if (matches(pattern)) return describeSource(from[0]!);
  const passthrough = config.egress.passthrough.findIndex(matches);
  return passthrough === -1 ? null : `egress.passthrough[${passthrough}]`;
}

/** Why `after` is not `before` with `host` added to egress.allow, or null when it is exactly that. */
function difference(before: BottleConfig, after: BottleConfig, host: string): string | null {
  const sorted = (list: readonly string[]) => [...list].sort();
  if (!after.egress.allow.includes(host)) return `egress.allow still does not hold ${JSON.stringify(host)}`;
  if (!isDeepStrictEqual(sorted(after.egress.allow), sorted([...before.egress.allow, host]))) {
    return `egress.allow would become ${JSON.stringify(after.egress.allow)} instead of ${JSON.stringify([...before.egress.allow, host])}`;
  }
  const rest = (config: BottleConfig) => ({ ...config, egress: { ...config.egress, allow: [] } });
  if (!isDeepStrictEqual(rest(before), rest(after))) return "more than egress.allow would change";
  return null;
}

/** Replaces the file atomically with its mode, and (when bottle runs as root) its owner, kept. */
function replace(path: string, content: string | Buffer, mode: number, st: { uid: number; gid: number }): void {
  writeFileAtomic(path, content, mode);
  if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) chownSync(path, st.uid, st.gid);
}
