// Config problems as values: each names the field path and what is expected.
import type { z } from "zod";
import { BottleError } from "../lib/errors.js";

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
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  knownKeys: (path: PropertyKey[]) => string[],
  prefix: readonly PropertyKey[] = [],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as PropertyKey[])];
    if (issue.code === "invalid_union") {
      // `false | sidecar`: when the value has the shape of exactly one option
      // (every issue is inside it), that option's problems are the precise
      // ones (`gitGate.env.TOKEN`, `gitGate.bogus`), not "expected one of".
      const matching = issue.errors.filter((branch) => branch.every((inner) => inner.path.length > 0));
      if (matching.length === 1) {
        problems.push(...problemsFromIssues(matching[0]!, knownKeys, path));
        continue;
      }
    }
    if (issue.code === "invalid_key") {
      // A bad record key: say what a key must be, at the key's own path.
      for (const inner of issue.issues) problems.push({ path: formatPath(path), message: inner.message.replace(/^Invalid input: /, "") });
      continue;
    }
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
    // With reportInput, a missing value is told apart from a wrong one whatever the message says.
    const missing = issue.code === "invalid_type" && ("input" in issue ? issue.input === undefined : /received undefined$/.test(message));
    if (missing) message = `is required (${message.replace(/, received undefined$/, "")})`;
    problems.push({ path: formatPath(path), message });
  }
  return problems;
}

/** The config at `file` is invalid: one error naming each problem (a field path and what is wrong). */
export function configError(file: string, problems: ConfigProblem[], cause?: unknown): BottleError<"config"> {
  return new BottleError("config", renderProblems(file, problems), { detail: { file, problems }, cause });
}

export function renderProblems(file: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ""}${p.message}`);
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return `${file}: ${count}\n${lines.join("\n")}`;
}
