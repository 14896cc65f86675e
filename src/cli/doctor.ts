// bottle doctor: can this machine launch a bottle? One line per check, each
// failing one with its fix.
import { EXIT_FAILED, EXIT_OK } from "../lib/errors.js";
import { toolSearchPath } from "../lib/host-tools.js";
import { bottleChecks } from "../app/doctor/bottle-checks.js";
import { jail, launchable, nodeVersion, runtimeDir, tools, virtualisation, type Check } from "../app/doctor/checks.js";
import { CONFIG, HELP, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";

export const spec: CommandSpec = {
  name: "doctor",
  summary: "Check that this machine can launch a bottle: Node.js, KVM (or macOS's Hypervisor.framework), the tools and their versions, bubblewrap's user namespaces, XDG_RUNTIME_DIR, and the bottle's own stage and run dirs. Each failing check says how to fix it.",
  options: [CONFIG, { name: "json", kind: "flag", description: "print one JSON object: the checks and whether a launch can work" }, HELP],
  details: [
    "Without --config, the bottle is the one found as `bottle build` finds it (its project's, or ./bottle.config.ts); with none, its checks are left out.",
    "Exit codes: 0 a launch can work (warnings allowed), 1 something a launch needs is missing or wrong.",
  ].join("\n"),
};

const MARK: Record<Check["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const searchPath = toolSearchPath(process.env.PATH ?? "");
  const checks: Check[] = [nodeVersion(), virtualisation(), ...(await tools(searchPath)), ...(process.platform === "linux" ? [await jail(searchPath)] : []), runtimeDir(), ...(await bottleChecks(stringOption(args, "config")))];
  const ok = launchable(checks);
  if (args.options.json) {
    console.log(JSON.stringify({ launchable: ok, checks }, null, 2));
  } else {
    for (const check of checks) {
      console.log(`${MARK[check.status]} ${check.name}: ${check.detail}`);
      if (check.fix && check.status !== "ok") console.log(`     fix: ${check.fix}`);
    }
    const failed = checks.filter((c) => c.status === "fail").length;
    console.log("");
    console.log(ok ? "a launch can work on this machine" : `\`bottle launch\` will fail here: ${failed} check${failed === 1 ? "" : "s"} above to fix`);
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}
