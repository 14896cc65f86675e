// gitleaks over what a push brings. Each pushed blob is written (under its
// path) into a private scratch directory, with the raw commits, tags and
// the ref names beside them, and `gitleaks dir` scans that: gitleaks never
// runs git itself (whose failures it reports as "no leaks found"), and
// gitleaks:allow comments in the agent's files do not silence it.
// node: imports only.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { PushedObject, RefUpdate } from "./pushed-objects.js";
import { runProgram } from "./run-git.js";
import { redact, type Needle } from "./secret-needles.js";

interface Finding {
  RuleID?: string;
  Description?: string;
  File?: string;
  StartLine?: number;
}

/** A pushed path as a relative path that stays inside its directory (git's fsck has already refused `..` and friends). */
function safeRelative(path: string): string | null {
  const parts = path.split("/");
  if (path === "" || parts.some((part) => part === "" || part === "." || part === ".." || part.includes("\0"))) return null;
  return parts.join("/");
}

export async function gitleaksRefusals(gitleaks: string, updates: readonly RefUpdate[], objects: readonly PushedObject[], scratchParent: string, needles: readonly Needle[]): Promise<string[]> {
  const scratch = mkdtempSync(join(scratchParent, "gitleaks-"));
  try {
    // The scanned tree's root holds only numbered directories, so a pushed
    // .gitleaks.toml or .gitleaksignore is never taken for gitleaks' own.
    const target = join(scratch, "push");
    const origin = new Map<string, string>();
    objects.forEach((object, index) => {
      const relative = object.type === "blob" ? safeRelative(object.path) : null;
      const name = object.type === "blob" ? (relative ?? `blob-${object.oid}`) : `${object.type}-${object.oid}.txt`;
      if (object.type === "tree") return;
      const file = join(target, String(index), name);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, object.content, { mode: 0o600 });
      origin.set(file, object.type === "blob" ? `${object.path} (blob ${object.oid.slice(0, 12)})` : `${object.type} ${object.oid.slice(0, 12)}`);
    });
    const refs = join(target, "refs", "pushed-ref-names.txt");
    mkdirSync(dirname(refs), { recursive: true, mode: 0o700 });
    writeFileSync(refs, updates.map((u) => u.ref).join("\n"), { mode: 0o600 });
    origin.set(refs, "a pushed ref name");

    const report = join(scratch, "report.json");
    const empty = join(scratch, "no-ignore");
    mkdirSync(empty, { mode: 0o700 });
    const run = await runProgram(
      gitleaks,
      ["dir", "--no-banner", "--no-color", "--redact", "--ignore-gitleaks-allow", "--exit-code", "3", "--gitleaks-ignore-path", empty, "--report-format", "json", "--report-path", report, target],
      { cwd: empty, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch } },
    );
    if (run.code !== 0 && run.code !== 3) {
      return [`gitleaks could not scan the push (exit code ${run.code}): ${redact(run.stderr.trim().split("\n").slice(-3).join(" | "), needles)}`];
    }
    let findings: Finding[];
    try {
      findings = JSON.parse(readFileSync(report, "utf8")) as Finding[];
    } catch (error) {
      return [`gitleaks left no readable report: ${(error as Error).message}`];
    }
    if (run.code === 3 && findings.length === 0) return ["gitleaks reported leaks but its report lists none"];
    return findings.map((finding) => {
      const file = finding.File ?? "";
      const where = origin.get(file) ?? file.replace(`${target}/`, "");
      return `gitleaks: ${finding.RuleID ?? "a rule"} matched in ${where}${finding.StartLine ? `, line ${finding.StartLine}` : ""}${finding.Description ? ` (${finding.Description})` : ""}`;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
