// Watch mode against a running bottle: a task whose output a sidecar takes
// live (pipelock.yaml: its \`liveReload\`) is applied by asking the bottle's
// launcher to reload that sidecar, which answers only once the sidecar says
// it runs those exact bytes (pipelock's log), or refused them. Anything
// else needs the VM or gvproxy restarted: it is reported, never half-applied.
import { resolve } from "node:path";
import { errorMessage } from "../../lib/errors.js";
import type { BuildContext } from "./context.js";
import { liveLaunchRecord } from "./launch-record.js";
import { logPath } from "./logs.js";
import { sendControl } from "./process/control.js";
import { SIDECAR_LOG_ROLE, type ReloadableSidecar } from "./sidecar-names.js";

/** A task that re-rendered while the bottle may run: why it ran, and the sidecar that takes its output live, if one does. */
export interface RanTask {
  task: string;
  /** Why it ran, in words (`input \`agent.env.A\` changed`). */
  reasons: string[];
  liveReload: ReloadableSidecar | null;
}

export async function applyLive(ctx: Pick<BuildContext, "config" | "stageDir" | "runDir">, ran: readonly RanTask[]): Promise<string[]> {
  const running = liveLaunchRecord(ctx.runDir);
  if (!running) return [];
  if (resolve(running.stageDir) !== resolve(ctx.stageDir)) {
    // Its pipelock reads its own stage's pipelock.yaml: a reload would change nothing.
    return [`${ctx.config.name} is running from ${running.stageDir}, not ${ctx.stageDir}: nothing applied live`];
  }
  const lines: string[] = [];
  for (const sidecar of new Set(ran.flatMap(({ liveReload }) => (liveReload ? [liveReload] : [])))) {
    // The launcher waits up to 10 s for the sidecar; the reply comes after that.
    const reply = await sendControl(running.control, `reload ${sidecar}`, 20_000).catch((error: unknown) => `error ${errorMessage(error)}`);
    lines.push(describeReload(reply, logPath(ctx.stageDir, SIDECAR_LOG_ROLE[sidecar])));
  }
  for (const { task, reasons } of ran.filter(({ liveReload }) => !liveReload)) {
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
