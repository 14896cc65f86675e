// Checks of a config against the host that are re-run even when the
// evaluated config comes from the cache.
import { statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isInside, resolvedPath } from "../lib/path-checks.js";
import type { ConfigProblem } from "./errors.js";
import type { BottleConfig } from "./resolved.js";

export function hostProblems(config: BottleConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.workspace && !isDirectory(config.workspace.host)) {
    problems.push({
      path: "workspace.host",
      message: `${config.workspace.host} is not an existing directory (paths are relative to the config file's directory); create it or fix the path`,
    });
  }
  return problems;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The workspaces the guest can write, by real path: what it could plant files (or a config) in. */
export function writableWorkspaces(config: BottleConfig): string[] {
  return config.workspace && !config.workspace.readOnly ? [resolvedPath(config.workspace.host)] : [];
}

/**
 * The guest must not be able to write what confines it. A writable
 * workspace that holds the config or anything it loads (the agent could widen
 * egress.allow and wait for the next watch, build or resume), the stage dir
 * (pipelock.yaml, smolfile.toml, state.json), the gvforwarder bottle copies
 * into guest/, or the run dir (sockets) is refused. Paths are compared by
 * real path.
 */
export function confinementProblems(config: BottleConfig, guarded: { configFiles: readonly string[]; stageDir: string; runDir: string; install?: string }): ConfigProblem[] {
  const [workspace] = writableWorkspaces(config);
  if (workspace === undefined) return [];
  const fix = "keep bottle.config.ts (and what it imports) and the stage dir outside the workspace (move the config, or pass --stage DIR), or set workspace.readOnly: true";
  const problems: ConfigProblem[] = [];
  const inside = (path: string): boolean => isInside(workspace, resolvedPath(path));
  const config_ = guarded.configFiles.filter(inside);
  if (config_.length) {
    problems.push({ path: "workspace.host", message: `the guest could edit its own config: ${workspace} (writable in the guest) holds ${config_.join(", ")}; ${fix}` });
  }
  if (inside(guarded.stageDir)) {
    problems.push({ path: "workspace.host", message: `the guest could rewrite its rendered files (pipelock.yaml, smolfile.toml): ${workspace} (writable in the guest) holds the stage dir ${guarded.stageDir}; ${fix}` });
  }
  // The link itself counts too: a symlink in the workspace to a binary outside it is the guest's to repoint.
  const forwarder = config.guest.gvforwarder;
  const linkInside = (path: string): boolean => isInside(workspace, join(resolvedPath(dirname(path)), basename(path)));
  if (forwarder !== "image" && (inside(forwarder) || linkInside(forwarder))) {
    problems.push({ path: "guest.gvforwarder", message: `the guest could swap the binary bottle copies into guest/ (e.g. for a symlink to a private host file): ${workspace} (writable in the guest) holds ${forwarder}; keep gvforwarder outside the workspace, or use "image"` });
  }
  if (guarded.install !== undefined && inside(guarded.install)) {
    problems.push({ path: "workspace.host", message: `the guest could rewrite bottle itself: ${workspace} (writable in the guest) holds bottle's install ${guarded.install}; install bottle outside the workspace` });
  }
  if (inside(guarded.runDir)) {
    problems.push({ path: "workspace.host", message: `the guest could reach the bottle's sockets: ${workspace} (writable in the guest) holds the run dir ${guarded.runDir}; set XDG_RUNTIME_DIR elsewhere or choose another workspace` });
  }
  return problems;
}
