// The interactive view: a listr2 task list, one row per task. The engine
// schedules; listr2 only displays (it has no notion of dependencies).
import type { DefaultRenderer, ListrDefaultRendererLogLevels, ListrTaskWrapper, SimpleRenderer } from "listr2";
import type { EngineEvent } from "../events.js";
import { describeReason } from "../reasons.js";

type TaskEvent = Extract<EngineEvent, { type: "task" }>;

interface Row {
  /** The task's final event, or "released" when the view let go before it finished. */
  outcome: Promise<TaskEvent | "released">;
  settle: (event: TaskEvent | "released") => void;
  wrapper?: Wrapper;
  pendingTitle?: string;
  pendingOutput?: string;
}

export interface ListrView {
  onEvent(event: EngineEvent): void;
  /** Resolves when listr2 has drawn the last row. */
  finished(): Promise<void>;
  /**
   * Stops drawing now: unfinished rows are marked as handed over and listr2
   * ends, so another program (the agent) can have the terminal. Later events
   * are ignored here.
   */
  release(): Promise<void>;
}

type Wrapper = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

/** A row's last look: how its task ended (a failure is thrown, as listr2 wants it), or that the view let go first. */
function showOutcome(wrapper: Wrapper, task: string, finished: TaskEvent | "released"): void {
  if (finished === "released") {
    wrapper.title = `${task}: handed over to the terminal`;
    return;
  }
  const reasons = finished.entry.reasons.map(describeReason).join("; ");
  switch (finished.status) {
    case "fresh":
      // Drawn with a neutral mark (the skip icon, set below): fresh is nothing to warn about.
      return wrapper.skip(`${task}: fresh`);
    case "ran":
      wrapper.title = `${task} (${reasons}${finished.changed ? "" : "; same result"}) ${finished.ms} ms`;
      return;
    case "blocked":
      // It did not run because a task it needs failed: drawn as not done, with why.
      wrapper.title = task;
      throw new Error(`${task}: blocked (${reasons})`);
    case "failed":
      wrapper.title = task;
      throw new Error(finished.failure?.message ?? "failed");
  }
}

/** The list's look: every row at once, failures kept with their messages, a fresh task (`skipped`) collapsed under a plain `·`. */
function listOptions(skipped: ListrDefaultRendererLogLevels) {
  return {
    renderer: "default",
    fallbackRenderer: "simple",
    concurrent: true,
    exitOnError: false,
    collectErrors: false,
    rendererOptions: {
      collapseSkips: true,
      collapseErrors: false,
      showErrorMessage: true,
      icon: { [skipped]: "·" },
      color: { [skipped]: (text?: string) => text ?? "" },
    },
  } as const;
}

export async function createListrView(): Promise<ListrView> {
  const { Listr, ListrDefaultRendererLogLevels } = await import("listr2");
  const rows = new Map<string, Row>();
  let run: Promise<unknown> = Promise.resolve();

  const row = (task: string): Row => {
    let found = rows.get(task);
    if (!found) {
      let settle!: (event: TaskEvent | "released") => void;
      const outcome = new Promise<TaskEvent | "released">((resolve) => (settle = resolve));
      found = { outcome, settle };
      rows.set(task, found);
    }
    return found;
  };
  const setTitle = (task: string, title: string): void => {
    const r = row(task);
    if (r.wrapper) r.wrapper.title = title;
    else r.pendingTitle = title;
  };

  return {
    onEvent(event) {
      switch (event.type) {
        case "begin": {
          const list = new Listr(
            event.tasks.map((stub) => ({
              title: `${stub.task}: waiting`,
              // What a task logged (preflight: where each tool was found) stays under it.
              rendererOptions: { persistentOutput: true },
              task: async (_ctx: unknown, wrapper: Wrapper) => {
                const r = row(stub.task);
                r.wrapper = wrapper;
                if (r.pendingTitle) wrapper.title = r.pendingTitle;
                if (r.pendingOutput) wrapper.output = r.pendingOutput;
                showOutcome(wrapper, stub.task, await r.outcome);
              },
            })),
            listOptions(ListrDefaultRendererLogLevels.SKIPPED_WITH_COLLAPSE),
          );
          run = list.run().catch(() => undefined);
          return;
        }
        case "start":
          return setTitle(event.task, `${event.task}: running (${event.entry.reasons.map(describeReason).join("; ")})`);
        case "log": {
          const r = row(event.task);
          if (r.wrapper) r.wrapper.output = event.message;
          else r.pendingOutput = event.message;
          return;
        }
        case "task":
          return row(event.task).settle(event);
        case "warning":
          process.stderr.write(`warning: ${event.message}\n`);
          return;
        case "summary":
          return;
      }
    },
    finished: () => run.then(() => undefined),
    release: async () => {
      for (const r of rows.values()) r.settle("released");
      await run;
    },
  };
}
