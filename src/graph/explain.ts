// `explain`: the plan in sentences, one block per task.
import type { Plan, PlanEntry } from "./plan.js";
import { describeReason } from "./reasons.js";

export function explainEntry(entry: PlanEntry): string {
  const head = `${entry.task}${entry.volatile ? " (volatile)" : ""}`;
  const lines: string[] = [];
  switch (entry.status) {
    case "fresh":
      lines.push(`${head}: fresh`);
      if (entry.pendingNeeds.length) {
        lines.push(
          `  stays fresh only if ${entry.pendingNeeds.map((n) => `\`${n}\``).join(", ")} return${entry.pendingNeeds.length === 1 ? "s" : ""} the same result${entry.pendingNeeds.length === 1 ? "" : "s"} as last time (they run first)`,
        );
      }
      break;
    case "run":
      lines.push(`${head}: will run, because`);
      for (const reason of entry.reasons) lines.push(`  - ${describeReason(reason)}`);
      break;
    case "blocked":
      lines.push(`${head}: blocked`);
      for (const reason of entry.reasons) lines.push(`  - ${describeReason(reason)}`);
      break;
  }
  if (entry.description) lines.splice(1, 0, `  (${entry.description})`);
  return lines.join("\n");
}

export function explainPlan(plan: Plan, task?: string): string {
  const entries = task ? plan.entries.filter((e) => e.task === task) : plan.entries;
  return [...plan.warnings.map((w) => `warning: ${w}`), ...entries.map(explainEntry)].join("\n");
}
