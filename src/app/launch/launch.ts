// `bottle launch` and `bottle resume`: claim the run dir, run the graph to
// the agent, and tear down in reverse order whatever happens: the agent
// exits, a step fails, Ctrl-C, or `bottle stop` from another terminal.
// What the launch knows is one state value (launch-state.ts), changed only
// by events (signals, control-socket requests, a child lost, the agent
// attached); how it ended is an Outcome (outcome.ts), from which the exit
// code and the report follow.
import { findOnPath } from "../../lib/host-tools.js";
import { errorMessage, EXIT_INTERRUPTED, isBottleError } from "../../lib/errors.js";
import { writableWorkspaces } from "../../config/host-checks.js";
import type { RunResult, StageLock } from "../../graph/index.js";
import { resultOf } from "../../graph/index.js";
import { newPlaceholders, smolvmEnvironment } from "../../backends/smolmachines/injection.js";
import { jailLayout } from "../../backends/smolmachines/jail/index.js";
import { alreadyRunning, claimLaunchRecord, liveLaunchRecord, type ClaimedLaunchRecord } from "../../backends/smolmachines/launch-record.js";
import { saveLogCopy } from "../../backends/smolmachines/logs.js";
import { startControlServer } from "../../backends/smolmachines/process/control.js";
import { Smolvm } from "../../backends/smolmachines/process/smolvm.js";
import { Supervisor } from "../../backends/smolmachines/process/supervisor.js";
import { UndoStack, type Undone } from "../../backends/smolmachines/process/undo-stack.js";
import { checkStageDir, markStage } from "../../backends/smolmachines/stage-dir.js";
import { jailOnce } from "../../backends/smolmachines/steps/preflight-check.js";
import { reloadSidecar } from "../../backends/smolmachines/steps/reload.js";
import type { LaunchContext, LaunchServices } from "../../backends/smolmachines/steps/services.js";
import { subnetForSlug } from "../../backends/smolmachines/subnet.js";
import { launchTarget } from "../../../tasks/index.js";
import { holdStage, onInterrupt, runBottleGraph, type GraphView } from "../graph-runner.js";
import { findBottle, registerBottle, unregisterBottle } from "../registry.js";
import type { Session } from "../session.js";
import { initialLaunchState, reduceLaunch, type LaunchEffect, type LaunchEvent, type LaunchState } from "./launch-state.js";
import { describeEarlyEnd, describeNextStep, describeOutcome, exitCodeOf, outcomeOf, type Outcome } from "./outcome.js";

export interface LaunchRequest {
  mode: "launch" | "resume";
  unsafeNoJail: boolean;
  view: GraphView;
  /** A line of the launch's own output (stderr). */
  say(message: string): void;
  /** The view prints a failed step's error (plain and terminal views do, --json's events carry it): the closing line then does not repeat it. */
  viewShowsFailures: boolean;
  /** Runs alongside the agent once it has the terminal (launch --watch), until the launch ends. */
  alongside?: (signal: AbortSignal) => Promise<void>;
}

/** How often a launch whose sidecar port was taken (between allocation and start) allocates again. */
const PORT_ATTEMPTS = 3;

export async function runLaunch(session: Session, request: LaunchRequest): Promise<number> {
  return new Launch(session, request).run();
}

class Launch {
  private state: LaunchState = initialLaunchState;
  private readonly slug: string;
  private readonly controller = new AbortController();
  private readonly supervisor: Supervisor;
  private readonly undo = new UndoStack();
  private lock: StageLock | null = null;
  /** The run dir's launch record, once claimed, and the control socket serving it. */
  private record: ClaimedLaunchRecord | null = null;
  private control: { close(): Promise<void> } | null = null;
  /** The watch beside the agent (launch --watch), once it runs, and what ends it. */
  private alongside: Promise<void> | null = null;
  private readonly alongsideStop = new AbortController();
  /** Resolved once everything is torn down: `bottle stop` is answered then. */
  private readonly tornDown: Promise<void>;
  private markTornDown!: () => void;
  /** Something was started (a sidecar, the network, the machine): only then is there anything to resume. */
  private startedSomething = false;
  /** The bottle was in the registry before this launch: a launch that starts nothing leaves a new entry out. */
  private registeredBefore = true;

  constructor(
    private readonly session: Session,
    private readonly request: LaunchRequest,
  ) {
    this.slug = session.ctx.config.name;
    this.supervisor = new Supervisor({ searchPath: session.ctx.pathEnv, cwd: session.ctx.stageDir });
    this.tornDown = new Promise((resolve) => (this.markTornDown = resolve));
  }

  private dispatch(event: LaunchEvent): void {
    const next = reduceLaunch(this.state, event, this.slug);
    this.state = next.state;
    for (const effect of next.effects) this.perform(effect);
  }

  private perform(effect: LaunchEffect): void {
    switch (effect.type) {
      case "say":
        return this.request.say(effect.message);
      case "abort":
        return this.controller.abort(new Error(effect.reason));
      case "force-exit":
        this.supervisor.killEverything();
        // Nothing is left for the record and the sockets to describe.
        this.record?.release();
        this.lock?.release();
        return process.exit(EXIT_INTERRUPTED);
      case "reply-when-torn-down":
        void this.tornDown.then(() => effect.reply("stopped"));
        return;
      case "reload":
        void reloadSidecar(this.session.ctx, this.supervisor, effect.target).then(effect.reply, (error: unknown) => effect.reply(`error ${errorMessage(error)}`));
        return;
    }
  }

  async run(): Promise<number> {
    const { ctx } = this.session;
    // SIGHUP too: a closed terminal must tear the bottle down, not leave it.
    const interrupts = onInterrupt({ signals: ["SIGINT", "SIGTERM", "SIGHUP"], first: (name) => this.dispatch({ type: "signal", name }), again: (name) => this.dispatch({ type: "signal", name }) });
    // A closed terminal (SIGHUP) makes every later write fail with EPIPE/EIO;
    // unhandled, that error would kill bottle in the middle of its teardown.
    const ignoreWriteError = (): void => undefined;
    process.stdout.on("error", ignoreWriteError);
    process.stderr.on("error", ignoreWriteError);
    try {
      checkStageDir(ctx.stageDir, { create: true });
      // A running launch holds the stage lock until the agent is attached: say
      // it is running now, rather than after the lock wait times out.
      const running = liveLaunchRecord(ctx.runDir);
      if (running) throw alreadyRunning(running);
      this.lock = await holdStage(ctx.stageDir, { command: `bottle ${this.request.mode}`, signal: this.controller.signal });
      return await this.runWithStage();
    } finally {
      interrupts.dispose();
    }
  }

  /** With the stage lock held: claim the run dir, run the graph, and tear down whatever happened. */
  private async runWithStage(): Promise<number> {
    let result: RunResult | undefined;
    try {
      const record = await this.claim();
      result = await this.runGraph(this.services(record));
      await this.request.view.finished();
    } finally {
      const undone = await this.tearDown();
      this.report(result, undone);
    }
    return exitCodeOf(this.outcome(result));
  }

  /** The run dir for this launch: the launch record (a stale one cleared), the stage mark, the registry entry, the control socket. */
  private async claim(): Promise<ClaimedLaunchRecord> {
    const { ctx } = this.session;
    const octet = subnetForSlug(this.slug, ctx.config.network.subnetOctet).octet;
    const { record, cleanedStale } = claimLaunchRecord(ctx.runDir, { slug: this.slug, stageDir: ctx.stageDir, configPath: ctx.configPath, octet });
    this.record = record;
    for (const line of cleanedStale) this.request.say(line);
    markStage(ctx.stageDir, this.slug);
    this.registeredBefore = findBottle(this.slug) !== null;
    // Registered before anything starts, so `bottle stop` from another terminal finds it at once.
    registerBottle({ slug: this.slug, backend: this.session.backend.name, configPath: ctx.configPath, stageDir: ctx.stageDir, runDir: ctx.runDir, octet, writable: writableWorkspaces(ctx.config), updatedAt: Date.now() });
    this.control = await startControlServer(record.control, (request) => new Promise((reply) => this.dispatch({ type: "control", request, reply })));
    return record;
  }

  private services(record: ClaimedLaunchRecord): LaunchServices {
    const { ctx } = this.session;
    const placeholders = newPlaceholders(ctx.config);
    const signal = this.controller.signal;
    return {
      supervisor: this.supervisor,
      undo: this.undo,
      smolvm: new Smolvm(this.supervisor, findOnPath("smolvm", ctx.pathEnv) ?? "smolvm", signal, smolvmEnvironment(ctx.config, placeholders)),
      record,
      signal,
      placeholders,
      unsafeNoJail: this.request.unsafeNoJail,
      tty: Boolean(process.stdin.isTTY),
      jail: jailOnce(ctx, this.request.unsafeNoJail),
      handOverTerminal: async () => {
        this.lock?.release();
        await this.request.view.release();
        if (this.request.alongside) this.alongside = this.request.alongside(this.alongsideStop.signal);
        this.dispatch({ type: "agent-attached" });
      },
      agentAttached: () => this.state.attached,
      warn: (message) => this.request.say(`warning: ${message}`),
      say: (message) => this.request.say(message),
      childLost: (what, log) => this.dispatch({ type: "child-lost", what, log }),
    };
  }

  /** The graph to the agent; a sidecar port taken in the meantime is allocated again (everything started is undone first). */
  private async runGraph(services: LaunchServices): Promise<RunResult> {
    const { backend, ctx } = this.session;
    const launchCtx: LaunchContext = { ...ctx, launch: services };
    for (let attempt = 1; ; attempt++) {
      const result = await runBottleGraph({
        tasks: [...backend.graph.buildTasks, ...backend.graph.launchSteps],
        ctx: launchCtx,
        targets: [backend.graph.launchTarget],
        view: this.request.view,
        signal: this.controller.signal,
        lock: "held",
      });
      const portTaken = Object.values(result.failures).find((f) => isBottleError(f.cause, "port-taken"));
      if (!portTaken || attempt >= PORT_ATTEMPTS || this.controller.signal.aborted) return result;
      const undone = await this.undoSteps();
      this.request.say(`${portTaken.message}; re-allocating ports and trying again (attempt ${attempt + 1} of ${PORT_ATTEMPTS})${undone.cleaned.length ? `; undid: ${undone.cleaned.join(", ")}` : ""}`);
    }
  }

  private async undoSteps(): Promise<Undone> {
    this.dispatch({ type: "teardown-started" });
    const undone = await this.undo.undoAll();
    // An undo that failed had something to undo too.
    if (undone.cleaned.length || undone.errors.length) this.startedSomething = true;
    // Anything still running (an interrupted CLI call) is stopped too.
    this.supervisor.killRemaining();
    this.dispatch({ type: "teardown-finished" });
    return undone;
  }

  private async tearDown(): Promise<Undone> {
    this.alongsideStop.abort();
    await this.alongside?.catch(() => undefined);
    const undone = await this.undoSteps();
    // Only this launch's own gvproxy log: a launch that could not claim the run dir must not copy another's.
    if (this.record) this.keepGvproxyLog();
    // A bottle that never started has nothing to stop, resume or list. Its
    // entry goes while the run dir is still claimed: once released, the
    // next launch of this bottle may register it, and keeps that entry.
    if (this.record && !this.startedSomething && !this.registeredBefore) unregisterBottle(this.slug);
    this.record?.release();
    this.lock?.release();
    // `bottle stop` waits for this; the control server closes only after it has replied.
    this.markTornDown();
    await this.control?.close();
    return undone;
  }

  private keepGvproxyLog(): void {
    const { ctx } = this.session;
    // In the middle of the teardown: a log that cannot be kept (a symlink planted in its place) must not stop it.
    try {
      // Written from inside the jail: read without following a symlink (or opening a FIFO) the jail may have put there.
      saveLogCopy(jailLayout(ctx.runDir).gvproxyLog, ctx.stageDir, "gvproxy");
    } catch (error) {
      this.request.say(`warning: gvproxy's log was not kept: ${errorMessage(error)}`);
    }
  }

  private outcome(result: RunResult | undefined): Outcome {
    if (!result) throw new Error("a launch without a graph result has no outcome");
    const agent = result.outcomes[launchTarget.name] === "ran" ? resultOf(result.results, launchTarget)?.exitCode : undefined;
    return outcomeOf(this.state, result, agent);
  }

  /** How it ended, what was cleaned, and how to start it again (when anything had started). */
  private report(result: RunResult | undefined, undone: Undone): void {
    const { say } = this.request;
    const outcome = result ? this.outcome(result) : null;
    const ending = outcome ? describeOutcome(outcome, { slug: this.slug, mode: this.request.mode, failureShown: this.request.viewShowsFailures }) : describeEarlyEnd(this.state, this.slug);
    if (ending) say(ending);
    if (undone.cleaned.length) say(`cleaned up, in reverse order: ${undone.cleaned.join("; ")}`);
    for (const error of undone.errors) say(`warning: could not undo ${error}`);
    if (!outcome) return;
    say(describeNextStep(outcome, { slug: this.slug, started: this.startedSomething || this.state.attached, registered: this.registeredBefore }));
  }
}
