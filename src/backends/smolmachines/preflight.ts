// Are the host programs the smolmachines backend drives installed? Checked
// before anything is written, so a missing tool is named with its fix
// instead of surfacing later as a spawn ENOENT.
import { accessSync, constants, statSync } from "node:fs";
import { posix, win32 } from "node:path";

export type MissingRequirement =
  | { name: string; hint: string; kind: "binary" }
  /** `path` is where the file was looked for. */
  | { name: string; hint: string; kind: "file"; path: string };

export interface PreflightResult {
  ok: boolean;
  missing: MissingRequirement[];
  /** Where each requirement that is present was found. */
  found: Record<string, string>;
}

export interface PreflightOptions {
  platform: NodeJS.Platform;
  pathEnv: string;
  /** Absolute host path of the gvforwarder binary to mount, or "image". */
  gvforwarder: string;
  exists?: (path: string) => boolean;
  isExecutable?: (path: string) => boolean;
}

export const INSTALL_HINTS = {
  smolvm:
    "curl -sSL https://smolmachines.com/install.sh | bash  (macOS: brew install smol-machines/tap/smolvm)",
  gvproxy:
    "go install github.com/containers/gvisor-tap-vsock/cmd/gvproxy@latest  (and put $(go env GOPATH)/bin on PATH)",
  pipelock: "go install github.com/luckyPipewrench/pipelock/cmd/pipelock@latest",
  bwrap: "apt-get install bubblewrap  (or: dnf install bubblewrap)",
} as const;

export const GVFORWARDER_FILE_HINT =
  "build gvisor-tap-vsock's cmd/vm for linux (GOOS=linux go build -o gvforwarder ./cmd/vm) " +
  'and point guest.gvforwarder at it, or set guest.gvforwarder to "image" if the image ships gvforwarder';

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
    const path = findOnPath(name, opts.pathEnv, opts.platform, isExecutable);
    if (path === null) missing.push({ name, hint: INSTALL_HINTS[name], kind: "binary" });
    else found[name] = path;
  }

  if (opts.gvforwarder !== "image") {
    const path = opts.gvforwarder;
    if (exists(path)) found.gvforwarder = path;
    else missing.push({ name: "gvforwarder", hint: GVFORWARDER_FILE_HINT, kind: "file", path });
  }

  return { ok: missing.length === 0, missing, found };
}

/**
 * The first PATH entry holding an executable regular file called `name`.
 * Empty and relative entries are skipped: they would make the answer depend
 * on the current directory.
 */
export function findOnPath(
  name: string,
  pathEnv: string,
  platform: NodeJS.Platform,
  isExecutable: (path: string) => boolean,
): string | null {
  const path = platform === "win32" ? win32 : posix;
  for (const dir of pathEnv.split(path.delimiter)) {
    if (dir === "" || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export interface PreflightFormat {
  /** The environment variable that selected the backend, e.g. "BOTTLE_BACKEND". */
  backendEnv: string;
  backend: string;
}

/** The user-facing report of a failed preflight; "" when nothing is missing. */
export function formatPreflight(result: PreflightResult, format: PreflightFormat): string {
  const binaries = result.missing.filter((m) => m.kind === "binary");
  const files = result.missing.filter(
    (m): m is Extract<MissingRequirement, { kind: "file" }> => m.kind === "file",
  );
  if (binaries.length === 0 && files.length === 0) return "";
  const selector = `${format.backendEnv}=${format.backend}`;
  const lines: string[] = [];
  if (binaries.length > 0) {
    const noun = binaries.length === 1 ? "binary" : "binaries";
    lines.push(`${selector} requires the following ${noun} on PATH:`);
    for (const b of binaries) lines.push(`  - ${b.name}  install: ${b.hint}`);
  } else {
    lines.push(`${selector} requires the following file:`);
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

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
