// The synthetic graphs both contenders build, described once so the engine's
// tasks, the Makefile and the checks cannot drift apart.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Shape = "chain" | "fanin";
export const SHAPES: readonly Shape[] = ["chain", "fanin"];

export interface SyntheticTask {
  name: string;
  needs: string[];
  /** Input file relative to the bench dir (`in/leaf-i.txt`), if the task reads one. */
  leaf?: string;
}

export function isShape(value: string): value is Shape {
  return (SHAPES as readonly string[]).includes(value);
}

export function leafInput(i: number): string {
  return `in/leaf-${i}.txt`;
}

export function outputOf(task: string): string {
  return `out/${task}.txt`;
}

/**
 * chain: t0 ← t1 ← … ← t(N-1), t0 reads in/leaf-0.txt.
 * fanin: leaves t0 … t(N-2) each read in/leaf-i.txt; `final` needs them all.
 * `final` is not named tN so the Makefile can collect the leaves with `out/t*.txt`.
 */
export function syntheticTasks(shape: Shape, size: number): SyntheticTask[] {
  const tasks: SyntheticTask[] = [];
  if (shape === "chain") {
    for (let i = 0; i < size; i++) {
      tasks.push(i === 0 ? { name: "t0", needs: [], leaf: leafInput(0) } : { name: `t${i}`, needs: [`t${i - 1}`] });
    }
    return tasks;
  }
  for (let i = 0; i < size - 1; i++) tasks.push({ name: `t${i}`, needs: [], leaf: leafInput(i) });
  tasks.push({ name: "final", needs: tasks.map((t) => t.name) });
  return tasks;
}

export function finalTask(shape: Shape, size: number): string {
  return shape === "chain" ? `t${size - 1}` : "final";
}

/** The input the one-change rebuild edits, and how many engine tasks must then run. */
export const CHANGED_LEAF = leafInput(0);
export function expectedRanAfterChange(shape: Shape, size: number): number {
  return shape === "chain" ? size : 2;
}

export function leafContent(i: number, revision: number): string {
  return `leaf-${i} revision ${revision}\n`;
}

export function writeInputs(dir: string, shape: Shape, size: number): void {
  mkdirSync(join(dir, "in"), { recursive: true });
  syntheticTasks(shape, size).forEach((task, i) => {
    if (task.leaf) writeFileSync(join(dir, task.leaf), leafContent(i, 0));
  });
}
