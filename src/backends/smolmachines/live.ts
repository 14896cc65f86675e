// Watch mode against a running bottle: a new pipelock.yaml is applied by
// asking the bottle's launcher to install it for pipelock, which answers
// only once pipelock's log says it runs those exact bytes (or refused them).
// Anything else needs the VM or gvproxy restarted: it is reported, never
// half-applied.
import { resolve } from "node:path";
import type { BottleContext } from "../../context.js";
import type { RanTask } from "../types.js";
import { errorMessage } from "../../lib/errors.js";
import { sendControl } from "./process/control.js";
import { logPath } from "./launch/logs.js";
import { SIDECAR_LOG_ROLE } from "./sidecars.js";
import { liveRuntimeRecord } from "./runtime-record.js";

const LIVE = new Set(["pipelock.yaml"]);

export async function applyLive(ctx: BottleContext, ran: readonly RanTask[]): Promise<string[]> {
  const running = liveRuntimeRecord(ctx.runDir);
  if (!running) return [];
  if (resolve(running.stageDir) !== resolve(ctx.stageDir)) {
    // Its pipelock reads its own stage's pipelock.yaml: a reload would change nothing.
    return [`${ctx.config.name} is running from ${running.stageDir}, not ${ctx.stageDir}: nothing applied live`];
  }
  const lines: string[] = [];
  if (ran.some(({ task }) => LIVE.has(task))) {
    // The launcher waits up to 10 s for pipelock; the reply comes after that.
    const reply = await sendControl(running.control, "reload pipelock", 20_000).catch((error: unknown) => `error ${errorMessage(error)}`);
    lines.push(describeReload(reply, logPath(ctx.stageDir, SIDECAR_LOG_ROLE.pipelock)));
  }
  for (const { task, reasons } of ran.filter(({ task }) => !LIVE.has(task))) {
    lines.push(`needs \`bottle resume\`: \`${task}\` changed (${reasons.join("; ")}) while ${ctx.config.name} runs; the running bottle keeps its current setup until then`);
  }
  return lines;
}

/** What a live reload's reply means to the user: in effect, refused, or not known to be in effect. */
function describeReload(reply: string, pipelockLog: string): string {
  const [status = "", ...rest] = reply.split(" ");
  const detail = rest.join(" ");
  switch (status) {
    case "reloaded":
      return `applied live: reloaded ${detail}, so the egress change is in effect`;
    case "rejected":
      return `NOT applied: ${detail}; it keeps enforcing the policy it had. Fix the config (watch applies the next save), or stop the bottle and \`bottle resume\` to start pipelock afresh with it`;
    case "timeout":
      return `NOT known to be applied: ${detail}; see ${pipelockLog}. The change takes effect for certain at \`bottle resume\``;
    default:
      return `NOT applied: could not reach the running bottle (${reply}); the change takes effect at \`bottle resume\``;
  }
}
