// Which version of each host tool preflight found. Asking a tool costs a
// process spawn and preflight runs on every build, so an answer is kept in
// preflight's result with the binary's path, size and mtime, and asked again
// only when one of those changes.
import { statSync } from "node:fs";
import { runShort } from "./process/short-run.js";

/** How each tool prints its version. */
export const VERSION_ARGS: Readonly<Record<string, readonly string[]>> = {
  smolvm: ["--version"],
  gvproxy: ["-version"],
  pipelock: ["version"],
  gitleaks: ["version"],
  bwrap: ["--version"],
};

export type ToolVersion = {
  path: string;
  size: number;
  mtimeMs: number;
  /** What the tool said its version is; null when it would not say. */
  version: string | null;
};

/** Runs `path args` and resolves with its output, or null when it failed. */
export type VersionProbe = (path: string, args: readonly string[]) => Promise<string | null>;

const PROBE_TIMEOUT_MS = 5_000;

export const runVersionProbe: VersionProbe = async (path, args) => {
  const run = await runShort(path, args, { timeoutMs: PROBE_TIMEOUT_MS, maxBuffer: 64 * 1024 });
  return run.exitCode === 0 ? run.stdout.trim() || run.stderr.trim() : null;
};

/** The version in a tool's answer: the first version-looking word of its first line, else that line. */
export function parseVersion(output: string | null): string | null {
  const line = output?.split("\n").find((l) => l.trim() !== "")?.trim();
  if (!line) return null;
  const match = /\bv?\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*[0-9A-Za-z])?/.exec(line);
  return match ? match[0] : line.slice(0, 80);
}

function isToolVersion(value: unknown): value is ToolVersion {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.path === "string" && typeof v.size === "number" && typeof v.mtimeMs === "number" && (v.version === null || typeof v.version === "string");
}

/**
 * The version of every tool in `found` that has a version flag, reusing an
 * entry of `previous` whose binary has the same path, size and mtime.
 */
export async function toolVersions(
  found: Readonly<Record<string, string>>,
  previous: unknown,
  probe: VersionProbe = runVersionProbe,
): Promise<Record<string, ToolVersion>> {
  const known = typeof previous === "object" && previous !== null ? (previous as Record<string, unknown>) : {};
  const entries = await Promise.all(
    Object.entries(found)
      .filter(([name]) => name in VERSION_ARGS)
      .map(async ([name, path]): Promise<[string, ToolVersion] | null> => {
        let stat;
        try {
          stat = statSync(path);
        } catch {
          return null;
        }
        const cached = known[name];
        if (isToolVersion(cached) && cached.path === path && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return [name, cached];
        const version = parseVersion(await probe(path, VERSION_ARGS[name]!));
        return [name, { path, size: stat.size, mtimeMs: stat.mtimeMs, version }];
      }),
  );
  return Object.fromEntries(entries.filter((e): e is [string, ToolVersion] => e !== null));
}

/** One line: each tool, its version and where it was found. */
export function describeTools(versions: Readonly<Record<string, ToolVersion>>): string {
  return Object.entries(versions)
    .map(([name, v]) => `${name} ${v.version ?? "(version unknown)"} at ${v.path}`)
    .join("; ");
}
