// Graph export: the plan as text, mermaid, dot or JSON. Edges run from a
// task to the task that needs it (the direction data flows).
import type { Plan, PlanEntry } from "./plan.js";
import { describeReason } from "./reasons.js";

export const GRAPH_FORMATS = ["text", "mermaid", "dot", "json"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export function isGraphFormat(value: string): value is GraphFormat {
  return GRAPH_FORMATS.some((format) => format === value);
}

function edges(plan: Plan): [string, string][] {
  return plan.entries.flatMap((entry) => entry.needs.map((need): [string, string] => [need, entry.task]));
}

function statusWord(entry: PlanEntry): string {
  if (entry.status === "run") return "will run";
  if (entry.status === "blocked") return "blocked";
  return entry.pendingNeeds.length ? "fresh if its needs return the same results" : "fresh";
}

export function exportGraph(plan: Plan, format: GraphFormat): string {
  switch (format) {
    case "text":
      return plan.entries
        .map((entry) => {
          const flags = entry.volatile ? " (volatile)" : "";
          const needs = entry.needs.length ? `  ← ${entry.needs.join(", ")}` : "";
          return `${entry.task}${flags}: ${statusWord(entry)}${needs}`;
        })
        .join("\n");
    case "mermaid": {
      const id = nodeIds(plan);
      const lines = ["graph LR"];
      for (const entry of plan.entries) {
        const label = `${entry.task}${entry.volatile ? " (volatile)" : ""}`;
        lines.push(`  ${id(entry.task)}["${label.replace(/"/g, "#quot;")}"]:::${entry.status}`);
      }
      for (const [from, to] of edges(plan)) lines.push(`  ${id(from)} --> ${id(to)}`);
      lines.push("  classDef fresh fill:#e6f4ea,stroke:#188038", "  classDef run fill:#fef7e0,stroke:#b06000", "  classDef blocked fill:#fce8e6,stroke:#c5221f");
      return lines.join("\n");
    }
    case "dot": {
      const quote = (s: string): string => JSON.stringify(s);
      const colour = { fresh: "palegreen", run: "khaki", blocked: "lightpink" } as const;
      const lines = ["digraph bottle {", "  rankdir=LR;", "  node [shape=box, style=filled];"];
      for (const entry of plan.entries) {
        const style = entry.volatile ? ", peripheries=2" : "";
        lines.push(`  ${quote(entry.task)} [fillcolor=${colour[entry.status]}${style}];`);
      }
      for (const [from, to] of edges(plan)) lines.push(`  ${quote(from)} -> ${quote(to)};`);
      lines.push("}");
      return lines.join("\n");
    }
    case "json":
      return JSON.stringify({
        nodes: plan.entries.map((entry) => ({
          id: entry.task,
          volatile: entry.volatile,
          status: entry.status,
          reasons: entry.reasons.map(describeReason),
          pendingNeeds: entry.pendingNeeds,
        })),
        edges: edges(plan),
      });
  }
}

/** Mermaid ids must be plain words; task names like `gvproxy.yaml` are not. */
function nodeIds(plan: Plan): (task: string) => string {
  const ids = new Map(plan.entries.map((entry, i) => [entry.task, `t${i}`]));
  return (task) => ids.get(task)!;
}
