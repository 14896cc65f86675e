// What `bottle doctor` checks, one function per check, each answering with
// a status and, when it is not ok, the fix. Reads the machine; writes and
// starts nothing but the tools' `--version`, bubblewrap's own probe and, on macOS, sysctl (through the backend's process/).
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../../lib/errors.js";
import { findOnPath } from "../../lib/host-tools.js";
import { packageRoot } from "../../lib/package-root.js";
import { detectJail } from "../../backends/smolmachines/jail/detect.js";
import { INSTALL_HINTS } from "../../backends/smolmachines/preflight.js";
import { toolVersions } from "../../backends/smolmachines/tool-versions.js";
import { shortAnswerSync } from "../../backends/smolmachines/process/short-run.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, when the status is not ok. */
  fix?: string;
}

const MIN_NODE = [20, 19] as const;

export function nodeVersion(version = process.versions.node): Check {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: "node", status: "ok", detail: `Node.js ${version}` }
    : { name: "node", status: "fail", detail: `Node.js ${version} is older than ${MIN_NODE.join(".")}`, fix: "install Node.js 20.19 or later (20, 22 and 24 are supported)" };
}

/** The hypervisor smolvm needs: KVM on Linux, Hypervisor.framework on macOS. */
export function virtualisation(platform: NodeJS.Platform = process.platform, kvm = "/dev/kvm"): Check {
  if (platform === "darwin") {
    // Failing to ask counts as not available (reported below).
    const supported = shortAnswerSync("sysctl", ["-n", "kern.hv_support"], 5_000)?.trim() ?? "";
    return supported === "1"
      ? { name: "hypervisor", status: "ok", detail: "Hypervisor.framework is available (kern.hv_support = 1)" }
      : { name: "hypervisor", status: "fail", detail: "Hypervisor.framework is not available (kern.hv_support is not 1)", fix: "use an Apple silicon or Intel Mac with virtualisation; inside a VM, turn on nested virtualisation" };
  }
  if (platform !== "linux") return { name: "hypervisor", status: "fail", detail: `${platform} is not supported`, fix: "run bottle on Linux with KVM, or macOS" };
  if (!existsSync(kvm)) {
    return { name: "kvm", status: "fail", detail: `${kvm} does not exist`, fix: "turn on virtualisation (VT-x/AMD-V) in the firmware and load the kvm_intel or kvm_amd module; in a VM or cloud instance, use one with nested virtualisation" };
  }
  try {
    accessSync(kvm, constants.R_OK | constants.W_OK);
    return { name: "kvm", status: "ok", detail: `${kvm} is readable and writable` };
  } catch {
    return { name: "kvm", status: "fail", detail: `${kvm} is not readable and writable by you`, fix: "add yourself to its group: `sudo usermod -aG kvm $USER`, then log in again" };
  }
}

interface Pin {
  name: string;
  version: string;
}

function pins(): Pin[] {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), "scripts", "tool-pins.json"), "utf8")) as { tools: Pin[] }).tools;
  } catch {
    return [];
  }
}

const TOOLS_FIX = "in bottle's checkout, `npm run tools` installs the pinned versions into .tools/bin; or put them on PATH";

/** Each tool launch needs (smolvm, gvproxy, pipelock, bwrap on Linux) and gitleaks, where found and which version, against the pins. */
export async function tools(searchPath: string, platform: NodeJS.Platform = process.platform): Promise<Check[]> {
  const required = ["smolvm", "gvproxy", "pipelock", ...(platform === "linux" ? ["bwrap"] : [])];
  const names = [...required, "gitleaks"];
  const found: Record<string, string> = {};
  for (const name of names) {
    const path = findOnPath(name, searchPath);
    if (path !== null) found[name] = path;
  }
  const versions = await toolVersions(found, undefined);
  const pinned = new Map(pins().map((p) => [p.name, p.version]));
  return names.map((name): Check => {
    const path = found[name];
    const isRequired = required.includes(name);
    if (path === undefined) {
      const hint = (INSTALL_HINTS as Record<string, string>)[name] ?? TOOLS_FIX;
      return isRequired
        ? { name, status: "fail", detail: "not found (PATH, then bottle's .tools/bin)", fix: hint }
        : { name, status: "warn", detail: "not found: the git gate refuses every push without it", fix: TOOLS_FIX };
    }
    const version = versions[name]?.version ?? null;
    const pin = pinned.get(name);
    const at = `${version ?? "version unknown"} at ${path}`;
    if (pin && version !== null && version !== pin) {
      return { name, status: "warn", detail: `${at}; bottle is tested with ${pin}`, fix: TOOLS_FIX };
    }
    return { name, status: "ok", detail: pin ? `${at} (the pinned version)` : at };
  });
}

/** The jail: bubblewrap that can make its namespaces (the user-namespace restriction Ubuntu's AppArmor sets is detected with its fix). */
export async function jail(searchPath: string, platform: NodeJS.Platform = process.platform): Promise<Check> {
  try {
    const support = await detectJail(platform, { pathEnv: searchPath });
    switch (support.kind) {
      case "bwrap":
        return { name: "jail", status: "ok", detail: `bubblewrap at ${support.bwrap} makes the jail's namespaces` };
      case "sandbox-exec":
        return { name: "jail", status: "ok", detail: `sandbox-exec at ${support.path}` };
      case "unavailable":
        return { name: "jail", status: "fail", detail: support.reason, fix: support.fix };
    }
  } catch (error) {
    return { name: "jail", status: "fail", detail: `could not probe the jail: ${errorMessage(error)}` };
  }
}

/** XDG_RUNTIME_DIR: the run dir's parent when set; it must be yours and private. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): Check {
  const dir = env.XDG_RUNTIME_DIR;
  if (!dir) {
    return { name: "XDG_RUNTIME_DIR", status: "warn", detail: "not set: run dirs go under /tmp/bottle-<uid> (checked at every use, but shared ground)", fix: "log in through a session that sets it (systemd does), or set it to a private directory of your own" };
  }
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    return { name: "XDG_RUNTIME_DIR", status: "warn", detail: `${dir} does not exist: run dirs go under /tmp/bottle-<uid>`, fix: "set XDG_RUNTIME_DIR to a directory of your own with mode 0700" };
  }
  if (stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    return { name: "XDG_RUNTIME_DIR", status: "fail", detail: `${dir} is not private (owner ${stat.uid}, mode 0${(stat.mode & 0o777).toString(8)})`, fix: `chmod 0700 ${dir}, or set XDG_RUNTIME_DIR to a directory of your own` };
  }
  return { name: "XDG_RUNTIME_DIR", status: "ok", detail: `${dir} is yours, mode 0${(stat.mode & 0o777).toString(8)}` };
}

/** A launch can work when no check failed. */
export function launchable(checks: readonly Check[]): boolean {
  return checks.every((check) => check.status !== "fail");
}
