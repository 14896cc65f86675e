// Checks of a config against the host that are re-run even when the
// evaluated config comes from the cache.
import { statSync } from "node:fs";
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
