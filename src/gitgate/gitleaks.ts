// gitleaks over what a push brings. Each pushed object is written into a
// private scratch directory under a neutral name (<index>/blob-<oid>), with
// the ref names beside them, and `gitleaks dir` scans that from inside it:
// gitleaks never runs git itself (whose failures it reports as "no leaks
// found"), gitleaks:allow comments in the agent's files do not silence it,
// and no name the agent chose reaches gitleaks, whose global path allowlist
// (package-lock.json, go.sum, *.png, node_modules/...) and by-name archive
// skipping (*.zip, *.gz) would otherwise let a file through unscanned. The
// real path is kept only to word the refusal. gitleaks also skips, as
// binary, a file whose first bytes its file-type detector takes for an
// application's (see PREAMBLE), whatever follows: each object is written
// after a neutral line long enough that no signature the agent places can
// sit where the detector looks (line numbers are reported back without it).
// And since a skipped file is simply not scanned, the gate checks that
// gitleaks read every byte it was given, and refuses the push otherwise.
// node: imports only.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PushedObject, RefUpdate } from "./pushed-objects.js";
import { runProgram } from "./run-git.js";
import { redact, type Needle } from "./secret-needles.js";
import { errorMessage } from "../lib/errors.js";

/**
 * gitleaks v8.30.1 (sources/file.go, fileFragments) runs h2non/filetype
 * v1.1.3's Match on the first chunk it reads of a file (again on later
 * chunks only while it has seen no newline) and skips the whole file when
 * the type is application/*. Those matchers (matchers/archive.go,
 * application.go, document.go, font.go) look at fixed offsets: most at 0
 * (PDF, zip, gzip, ELF, ...), EOT at 8-10 and 34-35, DICOM's "DICM" at
 * 128-131, tar's "ustar" at 257-261, and, furthest, ISO 9660's "CD001" at
 * 32769-32773 (Iso: `len(buf) > 32773 && buf[32769] == 'C' ...`). A match
 * needs the buffer to reach its last offset. So a preamble of spaces ending
 * in a newline, written before each object, that covers every offset up to
 * the last one the file is long enough to reach, leaves the agent's bytes
 * nowhere a signature is looked for: up to tar's end for a file that cannot
 * reach ISO's offsets, past ISO's for one that can.
 */
const LAST_SIGNATURE_BYTE = 32773;
const LAST_SIGNATURE_BYTE_BELOW_ISO = 261;

/** The neutral line written before an object of `size` bytes. */
export function preamble(size: number): Buffer {
  const short = LAST_SIGNATURE_BYTE_BELOW_ISO + 1;
  const length = short + size <= LAST_SIGNATURE_BYTE ? short : LAST_SIGNATURE_BYTE + 1;
  return Buffer.from(`${" ".repeat(length - 1)}\n`);
}

/** What gitleaks says it read ("scanned ~N bytes"), or null when it does not say. */
export function scannedBytes(stderr: string): number | null {
  const match = /scanned ~(\d+) bytes/.exec(stderr);
  return match ? Number(match[1]) : null;
}

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
    let given = 0;
    const write = (relative: string, content: Buffer): void => {
      writeFileSync(join(target, relative), content, { mode: 0o600 });
      given += content.length;
    };
    objects.forEach((object, index) => {
      if (object.type === "tree") return;
      const relative = `${index}/${object.type}-${object.oid}`;
      mkdirSync(join(target, String(index)), { mode: 0o700 });
      write(relative, Buffer.concat([preamble(object.content.length), object.content]));
      origin.set(relative, object.type === "blob" ? `${object.path} (blob ${object.oid.slice(0, 12)})` : `${object.type} ${object.oid.slice(0, 12)}`);
    });
    const refNames = Buffer.from(updates.map((u) => u.ref).join("\n"));
    write("refs/pushed-ref-names", Buffer.concat([preamble(refNames.length), refNames]));
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
    const refusals = findings.map((finding) => {
      const file = finding.File ?? "";
      const name = file.replace(/^\.\//, "");
      const where = origin.get(name) ?? (file || "a pushed object");
      // The preamble is one line.
      const line = finding.StartLine ? finding.StartLine - 1 : finding.StartLine;
      return `gitleaks: ${finding.RuleID ?? "a rule"} matched in ${where}${line ? `, line ${line}` : ""}${finding.Description ? ` (${finding.Description})` : ""}`;
    });
    // A file gitleaks skipped (as binary, or for any reason of its own) was not checked: fail closed.
    const scanned = scannedBytes(run.stderr);
    if (scanned === null) refusals.push("gitleaks did not say how much of the push it read, so the gate cannot tell it read all of it");
    else if (scanned < given) refusals.push(`gitleaks read ${scanned} of the ${given} bytes it was given: it skipped some of the pushed content unread, so the push cannot be checked`);
    return refusals;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
