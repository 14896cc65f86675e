// The no-op run: when the stamp (stamp.ts) was written for this very graph
// and selection and every line of it still holds, every task is fresh and
// the run is over without analysing the graph, reading the state or
// starting the executor.
import type { EngineEvent } from "./events.js";
import type { RunResult } from "./executor.js";
import { freshEntry, type PlanEntry } from "./plan.js";
import type { Stamp } from "./stamp.js";
import type { TaskDeclaration } from "./task.js";

export interface FreshRunInput<C> {
  tasks: readonly TaskDeclaration<C>[];
  ctx: C;
  root: string;
  stamp: Stamp;
  /** graphKey of this run's graph and selection. */
  graphKey: string;
  onEvent: ((event: EngineEvent) => void) | undefined;
}

/**
 * The run's result when every selected task is fresh by its stamp line;
 * otherwise the tasks whose lines held before one did not (they are fresh,
 * whatever the rest turns out to be).
 */
export function freshRun<C>(input: FreshRunInput<C>): { result: RunResult } | { verified: ReadonlySet<string> } {
  const { stamp, ctx, root } = input;
  if (stamp.graphKey !== input.graphKey || stamp.lines.size !== stamp.selected) return { verified: new Set() };
  const defs = new Map<string, TaskDeclaration<C>>();
  for (const def of input.tasks) defs.set(def.name, def);
  // Each verified task's result hash, for the tasks that need it.
  const hashes = new Map<string, string>();
  const needHash = (need: string): string | undefined => hashes.get(need);
  // Lines are in the order the run that wrote them decided the tasks, so each need's line comes first.
  for (const [name, line] of stamp.lines) {
    const def = defs.get(name);
    if (!def || def.volatile || !stamp.holds(line, def, ctx, root, def.needs ?? [], needHash)) return { verified: new Set(hashes.keys()) };
    hashes.set(name, stamp.resultHash(line));
  }

  // Outcomes and entries are built when first asked for: a caller with no listener may never look.
  let outcomes: RunResult["outcomes"] | undefined;
  let entries: PlanEntry[] | undefined;
  const entriesOf = (): PlanEntry[] =>
    (entries ??= [...hashes.keys()].map((name) => {
      const def = defs.get(name)!;
      return freshEntry({ task: name, description: def.description, needs: def.needs ?? [], volatile: false });
    }));
  const emit = input.onEvent;
  if (emit) {
    emit({ type: "begin", tasks: entriesOf().map(({ task, description, needs, volatile }) => ({ task, description, needs, volatile })) });
    for (const entry of entriesOf()) emit({ type: "task", task: entry.task, status: "fresh", volatile: false, changed: false, entry, ms: 0 });
  }
  const result: RunResult = {
    ok: true,
    interrupted: false,
    get outcomes() {
      return (outcomes ??= Object.fromEntries([...hashes.keys()].map((name) => [name, "fresh"])));
    },
    results: { ...stamp.resultsByTask() },
    get entries() {
      return entriesOf();
    },
    failures: {},
    summary: { ran: 0, fresh: hashes.size, failed: 0, blocked: 0, ms: 0 },
    stateRead: false,
  };
  return { result };
}
