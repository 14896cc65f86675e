// A suite that cannot run here says so: `skipped: <suite>: <reason>` on
// stdout, which test/run.ts counts (and fails under CI). Never skip silently.
import { detectJail } from "../../src/backends/smolmachines/jail/index.js";
import { findTool, toolSearchPath, toolsDir } from "../../src/lib/host-tools.js";

export function skipSuite(suite: string, reason: string): void {
  console.log(`skipped: ${suite}: ${reason.replace(/\s*\n\s*/g, " ")}`);
}

/** How to get each tool a suite may need. */
const HOW_TO_GET: Readonly<Record<string, string>> = {
  bwrap: "apt-get install bubblewrap",
  shellcheck: "apt-get install shellcheck",
  ip: "apt-get install iproute2",
  udhcpc: "apt-get install udhcpc",
  nsenter: "apt-get install util-linux",
  unshare: "apt-get install util-linux",
  git: "apt-get install git",
  make: "apt-get install make",
  gvproxy: "npm run tools",
  gvforwarder: "npm run tools",
  gitleaks: "npm run tools",
  pipelock: "npm run tools (the Go module proxy may refuse it)",
};

/**
 * Where each tool is (on PATH, then bottle's .tools/bin, as bottle itself
 * looks), or a skip reason naming the missing ones and how to get them.
 */
export function requireTools(names: readonly string[]): string | null {
  const missing = names.filter((name) => findTool(name) === null);
  if (missing.length === 0) return null;
  const where = toolsDir() === null ? "PATH" : `PATH or ${toolsDir()}`;
  return `needs ${missing.map((name) => (HOW_TO_GET[name] ? `${name} (${HOW_TO_GET[name]})` : name)).join(", ")}, not found on ${where}`;
}

/** null when running as root, else why a suite needs it. */
export function requireRoot(why = "it makes users, namespaces or chowns files"): string | null {
  return process.getuid?.() === 0 ? null : `needs root: ${why}`;
}

/** null when the real bubblewrap jail works here, else bottle's own reason and fix. */
export async function requireJail(): Promise<string | null> {
  const support = await detectJail(process.platform, { pathEnv: toolSearchPath(process.env.PATH ?? "") });
  if (support.kind === "bwrap") return null;
  return support.kind === "unavailable" ? `${support.reason}; ${support.fix}` : `this host's jail is ${support.kind}, not bubblewrap`;
}
