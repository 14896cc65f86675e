// Printing a plan for --dry-run: sentences, or NDJSON.
import { describeReason, explainPlan, type Plan } from "../graph/index.js";

export function printPlan(plan: Plan, options: { json: boolean }): void {
  if (!options.json) {
    console.log(explainPlan(plan));
    const runs = plan.entries.filter((e) => e.status === "run").length;
    console.log(`dry run: ${runs} would run, ${plan.entries.length - runs} fresh; nothing was changed`);
    return;
  }
  for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
  for (const entry of plan.entries) {
    console.log(
      JSON.stringify({
        event: "plan",
        task: entry.task,
        status: entry.status,
        volatile: entry.volatile,
        reasons: entry.reasons.map(describeReason),
        pendingNeeds: entry.pendingNeeds,
      }),
    );
  }
}
