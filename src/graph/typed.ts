// Typed tasks. A task made with defineTask says what its run returns and
// names the tasks it needs as values, so its run receives their results
// with their types: a task reading another's result never casts. Underneath
// it is a plain TaskDef (needs by name, results as JSON in state.json);
// this is the one place the engine turns the stored JSON back into the type
// the task that returned it declared.
import type { Json } from "./json.js";
import type { TaskDeclaration, TaskDef, TaskRun } from "./task.js";

declare const resultType: unique symbol;

/** A TaskDef whose run returns an R. */
export interface Task<C, RC extends C, R extends Json> extends TaskDef<C, RC> {
  /** Only for the type checker: there is no such property. */
  readonly [resultType]?: R;
}

/** Any typed task, whatever it is given. */
export type AnyTask = Task<never, never, Json>;

/** What a task's run returns. */
export type ResultOf<T> = T extends Task<never, never, infer R> ? R : never;

/** The tasks a task needs, by the name its run knows each result by. */
export type Needs = Readonly<Record<string, AnyTask>>;

export type NeedResults<N extends Needs> = { readonly [K in keyof N]: ResultOf<N[K]> };

export interface TypedRun<RC, R extends Json, N extends Needs> extends Omit<TaskRun<RC>, "needs" | "previous"> {
  readonly needs: NeedResults<N>;
  /** What this task returned the last time it succeeded with the same version. */
  readonly previous: R | undefined;
}

export interface TaskSpec<C, RC extends C, R extends Json, N extends Needs> extends Omit<TaskDeclaration<C>, "needs"> {
  readonly needs?: N;
  run(run: TypedRun<RC, R, N>): Promise<R> | R;
}

/**
 * defineTask for one kind of task: `taskDefiner<BuildContext>()`, or
 * `taskDefiner<BuildContext, LaunchContext>()` for tasks whose run is given
 * more than their declarations. A task whose result another task reads
 * writes its run's return type (`run: ({ ctx }): Subnet => …`): TypeScript
 * cannot infer it from a run that takes its argument apart, and falls back
 * to Json.
 */
export function taskDefiner<C, RC extends C = C>() {
  return function defineTask<R extends Json, N extends Needs = Record<never, never>>(spec: TaskSpec<C, RC, R, N>): Task<C, RC, R> {
    const { needs, run, ...declaration } = spec;
    const named = Object.entries(needs ?? {});
    return {
      ...declaration,
      needs: named.map(([, task]) => task.name),
      run: (api: TaskRun<RC>) =>
        run({
          ...api,
          // What the engine holds for these tasks is what they returned: their declared types.
          needs: Object.fromEntries(named.map(([key, task]) => [key, api.needs[task.name]])) as NeedResults<N>,
          // The engine gives `previous` only from a run of this version of this task.
          previous: api.previous as R | undefined,
        }),
    };
  };
}

/** The result of `task` in a run's results (it ran or was fresh), typed; undefined when it did neither. */
export function resultOf<R extends Json>(results: Readonly<Record<string, Json>>, task: Task<never, never, R>): R | undefined {
  return Object.hasOwn(results, task.name) ? (results[task.name] as R) : undefined;
}
