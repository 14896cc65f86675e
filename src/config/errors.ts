// Config problems as values: each names the field path and what is expected.
import type { z } from "zod";

export interface ConfigProblem {
  /** Dotted field path, e.g. `agent.env.FOO` or `egress.allow[2]`; empty for the whole file. */
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Turns zod issues into one problem per issue (one per unknown key). */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], knownKeys: (path: PropertyKey[]) => string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(path);
      for (const key of issue.keys) {
        problems.push({
          path: formatPath([...path, key]),
          message: `unknown key${known.length ? ` (known keys here: ${known.join(", ")})` : ""}`,
        });
      }
      continue;
    }
    let message = issue.message.replace(/^Invalid input: /, "");
    if (issue.code === "invalid_type" && /received undefined$/.test(message)) {
      message = `is required (${message.replace(/, received undefined$/, "")})`;
    }
    problems.push({ path: formatPath(path), message });
  }
  return problems;
}

export function renderProblems(file: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ""}${p.message}`);
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return `${file}: ${count}\n${lines.join("\n")}`;
}
