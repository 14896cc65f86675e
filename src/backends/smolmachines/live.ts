// Watch mode against a running bottle: a new pipelock.yaml is applied by
// asking the bottle's supervisor to SIGHUP pipelock (it re-reads its
// config). Anything else needs the VM or gvproxy restarted: it is reported,
// never half-applied.
import { resolve } from "node:path";
import type { BottleContext } from "../../context.js";
import type { RanTask } from "../types.js";
import { sendControl } from "./process/control.js";
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
    const reply = await sendControl(running.control, "reload pipelock", 10_000).catch((error: unknown) => `error ${String(error)}`);
    lines.push(reply.startsWith("reloaded") ? `applied live: ${reply}, so the egress change is in effect` : `could not apply pipelock.yaml live (${reply}); it takes effect at \`bottle resume\``);
  }
  for (const { task, reasons } of ran.filter(({ task }) => !LIVE.has(task))) {
    lines.push(`needs \`bottle resume\`: \`${task}\` changed (${reasons.join("; ")}) while ${ctx.config.name} runs; the running bottle keeps its current setup until then`);
  }
  return lines;
}
