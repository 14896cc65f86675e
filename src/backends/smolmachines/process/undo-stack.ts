// The launch's rollback: each step, once it has happened, says how to undo
// itself; teardown undoes them all, last first, and says what it cleaned.
import { errorMessage } from "../../../lib/errors.js";

interface Undo {
  label: string;
  /** May return a more precise description of what it did; null when there was nothing to undo. */
  run: () => Promise<string | null | void>;
}

export interface Undone {
  /** What was undone, in the order it was. */
  cleaned: string[];
  /** What could not be undone, and why. */
  errors: string[];
}

export class UndoStack {
  private readonly steps: Undo[] = [];

  /** Registers how to undo a step that has happened. */
  defer(label: string, run: () => Promise<string | null | void> | string | null | void): void {
    this.steps.push({ label, run: async () => run() });
  }

  /** The labels of what is still to undo, first registered first. */
  get pending(): readonly string[] {
    return this.steps.map((step) => step.label);
  }

  /** Undoes every registered step, last first; an undo that fails is reported, not thrown. The stack is empty after. */
  async undoAll(): Promise<Undone> {
    const cleaned: string[] = [];
    const errors: string[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        const said = await step.run();
        if (said !== null) cleaned.push(said ?? step.label);
      } catch (error) {
        errors.push(`${step.label}: ${errorMessage(error)}`);
      }
    }
    return { cleaned, errors };
  }
}
