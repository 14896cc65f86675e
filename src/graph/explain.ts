// `explain`: the plan in sentences, one block per task.
import type { Plan, PlanEntry } from "./plan.js";
import { describeReason } from "./reasons.js";

export function explainEntry(entry: PlanEntry): string {
  const head = `${entry.task}${entry.volatile ? " (volatile)" : ""}`;
  const what = entry.description ? ` — ${entry.description}` : "";
  const lines: string[] = [];
  switch (entry.status) {
    case "fresh":
      lines.push(`${head}: fresh${what}`);
      if (entry.pendingNeeds.length) {
        const one = entry.pendingNeeds.length === 1;
        const needs = entry.pendingNeeds.map((n) => `\`${n}\``).join(", ");
        lines.push(`  stays fresh only if ${needs} ${one ? "returns the same result" : "return the same results"} as last time (${one ? "it runs" : "they run"} first)`);
      }
      break;
    case "run":
      lines.push(`${head}: will run${what}`);
      for (const reason of entry.reasons) lines.push(`  - ${describeReason(reason)}`);
      break;
    case "blocked":
      lines.push(`${head}: blocked${what}`);
      for (const reason of entry.reasons) lines.push(`  - ${describeReason(reason)}`);
      break;
  }
  return lines.join("\n");
}

export function explainPlan(plan: Plan, task?: string): string {
  const entries = task ? plan.entries.filter((e) => e.task === task) : plan.entries;
  return [...plan.warnings.map((w) => `warning: ${w}`), ...entries.map(explainEntry)].join("\n");
}
