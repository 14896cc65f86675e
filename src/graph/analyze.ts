// Graph analysis before anything runs: duplicate names, unknown needs and
// cycles are errors, reported as values with the same wording every time.
import { BottleError } from "../lib/errors.js";
import type { TaskDeclaration } from "./task.js";

export type GraphProblem =
  | { kind: "duplicate"; task: string }
  | { kind: "unknown-need"; task: string; need: string }
  | { kind: "unknown-target"; target: string }
  | { kind: "cycle"; cycle: string[] };

declare module "../lib/errors.js" {
  interface ErrorDetails {
    "invalid-graph": { problems: readonly GraphProblem[] };
  }
}

export function describeProblem(problem: GraphProblem): string {
  switch (problem.kind) {
    case "duplicate":
      return `two tasks are named \`${problem.task}\``;
    case "unknown-need":
      return `task \`${problem.task}\` needs \`${problem.need}\`, which is not a task`;
    case "unknown-target":
      return `\`${problem.target}\` is not a task`;
    case "cycle":
      return `cycle (each needs the next): ${problem.cycle.map((t) => `\`${t}\``).join(" → ")}`;
  }
}

/** The graph cannot be run: a BottleError ("invalid-graph") listing every problem. */
export function invalidGraph(problems: readonly GraphProblem[]): BottleError<"invalid-graph"> {
  return new BottleError("invalid-graph", `the task graph is invalid:\n${problems.map((p) => `  - ${describeProblem(p)}`).join("\n")}`, { detail: { problems } });
}

/** The tasks of a valid graph (T: TaskDef, or just their declarations), with the edges both ways. */
export interface Graph<T extends TaskDeclaration<never>> {
  /** Every task in a dependency order (needs first), ties broken by declaration order. */
  readonly order: readonly string[];
  readonly tasks: ReadonlyMap<string, T>;
  readonly needs: ReadonlyMap<string, readonly string[]>;
  readonly dependents: ReadonlyMap<string, readonly string[]>;
}

export function analyzeGraph<T extends TaskDeclaration<never>>(defs: readonly T[]): Graph<T> {
  const problems: GraphProblem[] = [];
  const tasks = new Map<string, T>();
  for (const def of defs) {
    if (tasks.has(def.name)) problems.push({ kind: "duplicate", task: def.name });
    else tasks.set(def.name, def);
  }
  const needs = new Map<string, string[]>();
  for (const def of tasks.values()) {
    const existing: string[] = [];
    for (const need of def.needs ?? []) {
      if (tasks.has(need)) existing.push(need);
      else problems.push({ kind: "unknown-need", task: def.name, need });
    }
    needs.set(def.name, [...new Set(existing)]);
  }
  if (problems.length) throw invalidGraph(problems);

  const order = topologicalOrder([...tasks.keys()], needs);
  // Only a graph with a cycle leaves tasks unordered; then name every cycle.
  if (order.length < tasks.size) throw invalidGraph(findCycles(needs).map((cycle) => ({ kind: "cycle", cycle })));

  const dependents = new Map<string, string[]>([...tasks.keys()].map((name) => [name, []]));
  for (const [task, list] of needs) for (const need of list) dependents.get(need)!.push(task);
  return { order, tasks, needs, dependents };
}

/**
 * Kahn's algorithm with a min-heap on declaration position: among ready
 * tasks the earliest declared goes first. O((n + e) log n). Tasks on a cycle
 * never become ready and are left out.
 */
function topologicalOrder(names: readonly string[], needs: ReadonlyMap<string, readonly string[]>): string[] {
  const waiting = new Int32Array(names.length);
  const index = new Map(names.map((name, i) => [name, i]));
  const dependents: number[][] = names.map(() => []);
  names.forEach((name, i) => {
    const list = needs.get(name)!;
    waiting[i] = list.length;
    for (const need of list) dependents[index.get(need)!]!.push(i);
  });
  const heap = new MinHeap();
  for (let i = 0; i < names.length; i++) if (waiting[i] === 0) heap.push(i);
  const order: string[] = [];
  while (heap.size) {
    const next = heap.pop();
    order.push(names[next]!);
    for (const dependent of dependents[next]!) if (--waiting[dependent]! === 0) heap.push(dependent);
  }
  return order;
}

class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let at = items.push(value) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (items[parent]! <= value) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length) {
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[at] = items[child]!;
        at = child;
      }
      items[at] = last;
    }
    return top;
  }
}

/**
 * One cycle per strongly connected component (Tarjan), written as a path
 * that starts and ends at the component's alphabetically first task and
 * follows the alphabetically first edge that closes the shortest loop.
 * Cycles are listed in order of their first task.
 */
export function findCycles(needs: ReadonlyMap<string, readonly string[]>): string[][] {
  const names = [...needs.keys()].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative Tarjan: a 10,000-task chain must not overflow the call stack.
  for (const root of names) {
    if (index.has(root)) continue;
    const frames: { node: string; edges: string[]; next: number }[] = [];
    const enter = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      frames.push({ node, edges: [...needs.get(node)!].sort(), next: 0 });
    };
    enter(root);
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      if (frame.next < frame.edges.length) {
        const to = frame.edges[frame.next++]!;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && needs.get(member)!.includes(member);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }

  return components
    .map((component) => shortestLoop(component.sort()[0]!, new Set(component), needs))
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

function shortestLoop(start: string, members: ReadonlySet<string>, needs: ReadonlyMap<string, readonly string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const next of [...needs.get(node)!].sort()) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** The named targets and everything they transitively need. */
export function closure(graph: Graph<TaskDeclaration<never>>, targets: readonly string[]): Set<string> {
  const unknown = targets.filter((t) => !graph.tasks.has(t));
  if (unknown.length) throw invalidGraph(unknown.map((target) => ({ kind: "unknown-target", target })));
  const seen = new Set<string>();
  const visit = [...targets];
  while (visit.length) {
    const name = visit.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    visit.push(...graph.needs.get(name)!);
  }
  return seen;
}
