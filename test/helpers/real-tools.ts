// The real tools the real-network suites drive, found as bottle finds them
// (PATH, then the checkout's .tools/bin). What is missing is a reason to
// skip, never a silent pass.
import { delimiter, join } from "node:path";
import { findOnPath, findTool, toolSearchPath } from "../../src/lib/host-tools.js";
import { packageRoot } from "../../src/lib/package-root.js";
import { requireRoot, requireTools } from "./skip.js";

export const NSVM_BIN = join(packageRoot(), "test", "nsvm", "bin");
export const FAKES_BIN = join(packageRoot(), "test", "fixtures", "bin");

export interface RealNetworkTools {
  gvproxy: string;
  gvforwarder: string;
  pipelock: string;
}

/** The real tools and host programs a real launch needs (pipelock included: never its contract fake), or why they cannot be had. */
export function realNetworkTools(): RealNetworkTools | { missing: string } {
  const missing = requireRoot("network namespaces and the namespace machine") ?? requireTools(["bwrap", "nsenter", "unshare", "ip", "udhcpc", "gvproxy", "gvforwarder"]);
  if (missing) return { missing };
  // The contract fake is on PATH in some suites; only a real one counts here.
  const pathWithoutFakes = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== FAKES_BIN).join(delimiter);
  const pipelock = findOnPath("pipelock", toolSearchPath(pathWithoutFakes));
  if (pipelock === null) return { missing: "needs the real pipelock (npm run tools; README, \"Installing the tools\"), not found on PATH or in .tools/bin" };
  return { gvproxy: findTool("gvproxy")!, gvforwarder: findTool("gvforwarder")!, pipelock };
}
