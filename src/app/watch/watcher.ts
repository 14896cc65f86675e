// `bottle watch`: build once, then watch the config, the files it imports
// and the files tasks read; on a real content change re-load the config in
// this process, re-plan and run only what is not fresh. Driven by the pure
// state machine in watch-states.ts; the files and their hashes are
// watched-files.ts's, a run is watch-run.ts's, what is said watch-output.ts's.
import { resolve } from "node:path";
import { errorMessage } from "../../lib/errors.js";
import type { Session } from "../session.js";
import { transition, type Effect, type WatchEvent, type WatchState } from "./watch-states.js";
import { WatchOutput } from "./watch-output.js";
import { watchRun, type WatchRunOutcome } from "./watch-run.js";
import { WatchedFiles, type Touched } from "./watched-files.js";

export interface WatchOptions {
  /** Loads the config afresh and opens the bottle (a BottleError "config" on bad config). */
  open(): Promise<Session>;
  /** The config file: watched from the start, before it is first loaded. */
  config?: string;
  json: boolean;
  debounceMs?: number;
  signal: AbortSignal;
  print(line: string): void;
}

export class BottleWatcher {
  private state: WatchState = "idle";
  private timer: NodeJS.Timeout | undefined;
  private readonly files = new WatchedFiles((touched) => this.onTouched(touched));
  private readonly output: WatchOutput;
  /** The session of the last good load. */
  private session: Session | undefined;
  private runAbort: AbortController | undefined;
  private firstRun = true;
  /** The first build failed unexpectedly: the watch ends with this error. */
  private fatal: { error: unknown } | undefined;
  private exit!: () => void;
  private readonly exited = new Promise<void>((resolve) => (this.exit = resolve));
  /** For tests and the benchmark: called after each run with what it did. */
  onRun: ((outcome: WatchRunOutcome) => void) | undefined;

  constructor(private readonly options: WatchOptions) {
    this.output = new WatchOutput(options.json, options.print);
  }

  /** Builds once, then watches until the signal aborts. Rejects only if the first run fails unexpectedly. */
  async start(): Promise<void> {
    const { signal } = this.options;
    // The first run reads whatever is there by then: an edit before it needs no event.
    if (this.options.config) await this.files.watch([resolve(this.options.config)]);
    // The first build is a run like any other: it ends with `done`, and a
    // stop while it runs aborts it and exits once it is done.
    this.state = "running";
    this.perform({ type: "run" });
    if (signal.aborted) this.dispatch({ type: "stop" });
    else signal.addEventListener("abort", () => this.dispatch({ type: "stop" }), { once: true });
    await this.exited;
    await this.files.close();
    if (this.fatal) throw this.fatal.error;
  }

  private get stopping(): boolean {
    return this.state === "stopped" || this.state === "stopping";
  }

  /** Events on watched files: a save without edits is said and ignored, a real edit is a change. */
  private onTouched({ changed, unchanged }: Touched): void {
    if (this.stopping) return;
    for (const file of unchanged) this.output.ignored(file);
    if (changed) this.dispatch({ type: "change" });
  }

  /** The burst has settled: run only if some file's content now differs from what the last run read. */
  private onTimer(): void {
    const { changed, touched } = this.files.settle();
    if (!changed) for (const file of touched) this.output.ignored(file);
    this.dispatch({ type: "timer", changed });
  }

  private dispatch(event: WatchEvent): void {
    const before = this.state;
    const next = transition(this.state, event);
    this.state = next.state;
    if (next.state !== before) this.output.state(next.state);
    for (const effect of next.effects) this.perform(effect);
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case "start-timer":
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.onTimer(), this.options.debounceMs ?? 50);
        return;
      case "cancel-timer":
        clearTimeout(this.timer);
        return;
      case "run":
        return this.startRun();
      case "abort-run":
        this.runAbort?.abort();
        return;
      case "exit":
        clearTimeout(this.timer);
        this.exit();
        return;
    }
  }

  private startRun(): void {
    const first = this.firstRun;
    this.firstRun = false;
    // Made before the config is loaded, so a stop while loading skips the graph.
    const abort = (this.runAbort = new AbortController());
    const run = watchRun({
      open: this.options.open,
      last: this.session,
      files: this.files,
      output: this.output,
      signal: abort.signal,
      changedMeanwhile: () => this.dispatch({ type: "change" }),
    });
    void run.then(
      ({ session, outcome }) => {
        if (session) this.session = session;
        if (outcome) this.onRun?.(outcome);
      },
      (error: unknown) => {
        // The first build failing unexpectedly ends the watch with that
        // error (as `bottle build` would); later, it is reported and the
        // watch goes on.
        if (first) {
          this.fatal = { error };
          this.dispatch({ type: "stop" });
        } else {
          this.output.error(errorMessage(error));
          this.onRun?.({ ran: [], ok: false, configError: false });
        }
      },
    ).finally(() => {
      this.runAbort = undefined;
      this.dispatch({ type: "done" });
    });
  }
}
