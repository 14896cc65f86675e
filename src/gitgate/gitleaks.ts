// gitleaks over what a push brings. Each pushed object is written into a
// private scratch directory under a neutral name (<index>/blob-<oid>), with
// the ref names beside them, and `gitleaks dir` scans that from inside it:
// gitleaks never runs git itself (whose failures it reports as "no leaks
// found"), gitleaks:allow comments in the agent's files do not silence it,
// and no name the agent chose reaches gitleaks, whose global path allowlist
// (package-lock.json, go.sum, *.png, node_modules/...) and by-name archive
// skipping (*.zip, *.gz) would otherwise let a file through unscanned. The
// real path is kept only to word the refusal. gitleaks also skips, as binary,
// a file whose first bytes are a PDF, zip or gzip signature, whatever
// follows: each object is written after one newline, so no signature the
// agent puts first sits at offset 0 (line numbers are reported back without it).
// node: imports only.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PushedObject, RefUpdate } from "./pushed-objects.js";
import { runProgram } from "./run-git.js";
import { redact, type Needle } from "./secret-needles.js";
import { errorMessage } from "../errors.js";

/** Written before each object: one line, so a signature the agent put first no longer opens the file. */
const LEAD = Buffer.from("\n");

interface Finding {
  RuleID?: string;
  Description?: string;
  File?: string;
  StartLine?: number;
}

export async function gitleaksRefusals(gitleaks: string, updates: readonly RefUpdate[], objects: readonly PushedObject[], scratchParent: string, needles: readonly Needle[]): Promise<string[]> {
  const scratch = mkdtempSync(join(scratchParent, "gitleaks-"));
  try {
    // The scanned tree's root holds only numbered directories and refs/, so
    // a pushed .gitleaks.toml or .gitleaksignore is never taken for gitleaks' own.
    // Paths are relative to it (gitleaks scans "."): where the stage dir
    // lies cannot match the path allowlist either.
    const target = join(scratch, "push");
    mkdirSync(join(target, "refs"), { recursive: true, mode: 0o700 });
    const origin = new Map<string, string>();
    objects.forEach((object, index) => {
      if (object.type === "tree") return;
      const relative = `${index}/${object.type}-${object.oid}`;
      mkdirSync(join(target, String(index)), { mode: 0o700 });
      writeFileSync(join(target, relative), Buffer.concat([LEAD, object.content]), { mode: 0o600 });
      origin.set(relative, object.type === "blob" ? `${object.path} (blob ${object.oid.slice(0, 12)})` : `${object.type} ${object.oid.slice(0, 12)}`);
    });
    writeFileSync(join(target, "refs", "pushed-ref-names"), updates.map((u) => u.ref).join("\n"), { mode: 0o600 });
    origin.set("refs/pushed-ref-names", "a pushed ref name");

    const report = join(scratch, "report.json");
    const empty = join(scratch, "no-ignore");
    mkdirSync(empty, { mode: 0o700 });
    const run = await runProgram(
      gitleaks,
      ["dir", "--no-banner", "--no-color", "--redact", "--ignore-gitleaks-allow", "--exit-code", "3", "--gitleaks-ignore-path", empty, "--report-format", "json", "--report-path", report, "."],
      { cwd: target, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch } },
    );
    if (run.code !== 0 && run.code !== 3) {
      return [`gitleaks could not scan the push (exit code ${run.code}): ${redact(run.stderr.trim().split("\n").slice(-3).join(" | "), needles)}`];
    }
    let findings: Finding[];
    try {
      findings = JSON.parse(readFileSync(report, "utf8")) as Finding[];
    } catch (error) {
      return [`gitleaks left no readable report: ${errorMessage(error)}`];
    }
    if (run.code === 3 && findings.length === 0) return ["gitleaks reported leaks but its report lists none"];
    return findings.map((finding) => {
      const file = finding.File ?? "";
      const name = file.replace(/^\.\//, "");
      const where = origin.get(name) ?? (file || "a pushed object");
      const line = finding.StartLine && name !== "refs/pushed-ref-names" ? finding.StartLine - 1 : finding.StartLine;
      return `gitleaks: ${finding.RuleID ?? "a rule"} matched in ${where}${line ? `, line ${line}` : ""}${finding.Description ? ` (${finding.Description})` : ""}`;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
