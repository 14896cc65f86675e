// The real tools the real-network suites drive: found on PATH first, then in
// the checkout's .tools/bin (where `npm run tools` installs them). What is
// missing is a reason to skip, never a silent pass.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root: dist/test/helpers/real-tools.js is three levels down. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const TOOLS_BIN = join(REPO_ROOT, ".tools", "bin");
export const NSVM_BIN = join(REPO_ROOT, "test", "nsvm", "bin");
export const FAKES_BIN = join(REPO_ROOT, "test", "fixtures", "bin");

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** PATH first, then .tools/bin; null when neither has it. */
export function findTool(name: string, pathEnv: string = process.env.PATH ?? ""): string | null {
  for (const dir of [...pathEnv.split(delimiter).filter(Boolean), TOOLS_BIN]) {
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return null;
}

export interface RealNetworkTools {
  gvproxy: string;
  gvforwarder: string;
  /** The real pipelock, or null: the suites then run the contract fake and say so. */
  pipelock: string | null;
}

/** The tools and host programs a real launch needs, or why they cannot be had. */
export function realNetworkTools(): RealNetworkTools | { missing: string } {
  if (process.getuid?.() !== 0) return { missing: "needs root (network namespaces, the namespace machine)" };
  for (const program of ["bwrap", "nsenter", "unshare", "ip", "udhcpc"]) {
    if (!findTool(program)) return { missing: `${program} is not installed (apt-get install ${program === "ip" ? "iproute2" : program === "nsenter" || program === "unshare" ? "util-linux" : program === "bwrap" ? "bubblewrap" : program})` };
  }
  const gvproxy = findTool("gvproxy");
  const gvforwarder = findTool("gvforwarder");
  if (!gvproxy || !gvforwarder) return { missing: `gvproxy and gvforwarder are not installed: run \`npm run tools\`` };
  // The contract fake is on PATH in some suites; only a real one counts here.
  const pipelock = findTool("pipelock", (process.env.PATH ?? "").split(delimiter).filter((d) => d !== FAKES_BIN).join(delimiter));
  return { gvproxy, gvforwarder, pipelock };
}
