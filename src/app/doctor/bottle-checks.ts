// `bottle doctor`'s checks that need the bottle: its config loads, its
// gvforwarder file, its stage and run dirs.
import { checkPreflight } from "../../backends/smolmachines/preflight.js";
import { checkRunDir } from "../../backends/smolmachines/run-dir.js";
import { checkStageDir } from "../../backends/smolmachines/stage-dir.js";
import { errorMessage } from "../../lib/errors.js";
import { findConfig, openSession } from "../session.js";
import type { Check } from "./checks.js";

/** The bottle's checks; none when there is no config to find. */
export async function bottleChecks(config: string | undefined): Promise<Check[]> {
  let path: string;
  try {
    path = findConfig(config);
  } catch {
    return [];
  }
  try {
    const { ctx } = await openSession({ config: path });
    const checks: Check[] = [{ name: "config", status: "ok", detail: `${ctx.configPath} (bottle ${ctx.config.name})` }];
    const dir = (what: string, at: string, check: () => boolean): Check => {
      try {
        return { name: what, status: "ok", detail: check() ? `${at} is yours and private` : `${at} (made at the first build or launch)` };
      } catch (error) {
        return { name: what, status: "fail", detail: errorMessage(error) };
      }
    };
    checks.push(dir("stage dir", ctx.stageDir, () => checkStageDir(ctx.stageDir)), dir("run dir", ctx.runDir, () => checkRunDir(ctx.runDir)));
    const forwarder = ctx.config.guest.gvforwarder;
    if (forwarder !== "image") {
      const missing = checkPreflight({ platform: ctx.platform, pathEnv: "", gvforwarder: forwarder }).missing.find((m) => m.name === "gvforwarder");
      checks.push(missing ? { name: "gvforwarder", status: "fail", detail: `${forwarder} not found`, fix: missing.hint } : { name: "gvforwarder", status: "ok", detail: forwarder });
    }
    return checks;
  } catch (error) {
    return [{ name: "config", status: "fail", detail: errorMessage(error) }];
  }
}
