// What a backend gives the CLI: its task graph and which targets each
// command runs. The CLI knows nothing else about a backend.
import type { BottleContext } from "../context.js";
import type { Json, TaskDef } from "../graph/index.js";

export interface Backend {
  readonly name: string;
  readonly tasks: readonly TaskDef<BottleContext>[];
  /** What `bottle build` renders. */
  readonly buildTargets: readonly string[];
  /** A warning for the build summary from the tasks' results, e.g. missing binaries; null when none. */
  buildWarning(results: Readonly<Record<string, Json>>): string | null;
}
