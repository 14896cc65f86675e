// Are the host programs the smolmachines backend drives installed? Checked
// before anything is written, so a missing tool is named with its fix
// instead of surfacing later as a spawn ENOENT.
import { statSync } from "node:fs";
import { findOnPath, isExecutableFile } from "../../lib/host-tools.js";
import type { ToolVersion } from "./tool-versions.js";

export type MissingRequirement =
  | { name: string; hint: string; kind: "binary" }
  /** `path` is where the file was looked for. */
  | { name: string; hint: string; kind: "file"; path: string };

export type PreflightResult = {
  ok: boolean;
  missing: MissingRequirement[];
  /** Where each requirement (and each optional tool) that is present was found. */
  found: Record<string, string>;
};

/** What the preflight task returns: the result with each found tool's version (probing is cached there). */
export type PreflightReport = PreflightResult & { versions: Record<string, ToolVersion> };

export interface PreflightOptions {
  platform: NodeJS.Platform;
  /** Where to look: PATH, then bottle's .tools/bin (see toolSearchPath). */
  pathEnv: string;
  /** Absolute host path of the gvforwarder binary to mount, or "image". */
  gvforwarder: string;
  exists?: (path: string) => boolean;
  isExecutable?: (path: string) => boolean;
}

export const INSTALL_HINTS = {
  smolvm:
    "curl -sSL https://smolmachines.com/install.sh | bash  (macOS: brew install smol-machines/tap/smolvm); on Linux it needs KVM (/dev/kvm): `bottle doctor` checks",
  gvproxy:
    "`npm run tools` in bottle's checkout (the pinned v0.8.9 into its .tools/bin), or go install github.com/containers/gvisor-tap-vsock/cmd/gvproxy@v0.8.9  (and put $(go env GOPATH)/bin on PATH)",
  pipelock:
    "`npm run tools` in bottle's checkout (the pinned version into its .tools/bin; where the Go module proxy refuses pipelock, put a module mirror on GOPROXY: README, \"Installing the tools\")",
  bwrap: "apt-get install bubblewrap  (or: dnf install bubblewrap)",
} as const;

export const GVFORWARDER_FILE_HINT =
  "build gvisor-tap-vsock's cmd/vm for linux (GOOS=linux go build -o gvforwarder ./cmd/vm) " +
  'and point guest.gvforwarder at it, or set guest.gvforwarder to "image" if the image ships gvforwarder';

/** Reported with their version when present, never missing: gitleaks scans for secrets. */
export const OPTIONAL_BINARIES = ["gitleaks"] as const;

/** The binaries to look for on PATH: bwrap is the Linux jail for gvproxy. */
export function requiredBinaries(platform: NodeJS.Platform): (keyof typeof INSTALL_HINTS)[] {
  const binaries: (keyof typeof INSTALL_HINTS)[] = ["smolvm", "gvproxy", "pipelock"];
  if (platform === "linux") binaries.push("bwrap");
  return binaries;
}

export function checkPreflight(opts: PreflightOptions): PreflightResult {
  const exists = opts.exists ?? isRegularFile;
  const isExecutable = opts.isExecutable ?? isExecutableFile;
  const missing: MissingRequirement[] = [];
  const found: Record<string, string> = {};

  for (const name of requiredBinaries(opts.platform)) {
    const path = findOnPath(name, opts.pathEnv, isExecutable);
    if (path === null) missing.push({ name, hint: INSTALL_HINTS[name], kind: "binary" });
    else found[name] = path;
  }
  for (const name of OPTIONAL_BINARIES) {
    const path = findOnPath(name, opts.pathEnv, isExecutable);
    if (path !== null) found[name] = path;
  }

  if (opts.gvforwarder !== "image") {
    const path = opts.gvforwarder;
    if (exists(path)) found.gvforwarder = path;
    else missing.push({ name: "gvforwarder", hint: GVFORWARDER_FILE_HINT, kind: "file", path });
  }

  return { ok: missing.length === 0, missing, found };
}

export interface PreflightFormat {
  /** Where the programs were looked for, after PATH (bottle's tools dir), or null for PATH only. */
  toolsDir: string | null;
}

/** The user-facing report of a failed preflight, naming each program and its install; "" when nothing is missing. */
export function formatPreflight(result: PreflightResult, format: PreflightFormat): string {
  const binaries = result.missing.filter((m) => m.kind === "binary");
  const files = result.missing.filter(
    (m): m is Extract<MissingRequirement, { kind: "file" }> => m.kind === "file",
  );
  if (binaries.length === 0 && files.length === 0) return "";
  const where = format.toolsDir === null ? "on PATH" : `on PATH or in ${format.toolsDir}`;
  const lines: string[] = [];
  if (binaries.length > 0) {
    const noun = binaries.length === 1 ? "this program" : "these programs";
    lines.push(`bottle launch needs ${noun}, not found ${where}:`);
    for (const b of binaries) lines.push(`  - ${b.name}  install: ${b.hint}`);
  } else {
    lines.push("bottle launch needs this file:");
  }
  for (const f of files) lines.push(`  - ${f.name} file ${f.path} not found  fix: ${f.hint}`);
  return lines.join("\n");
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
