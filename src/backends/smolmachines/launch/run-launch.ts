// `bottle launch` and `bottle resume`: claim the run dir, run the graph to
// `attach`, and tear down in reverse order whatever happens: the agent
// exits, a step fails, Ctrl-C, or `bottle stop` from another terminal.
import { join } from "node:path";
import type { BottleContext } from "../../../context.js";
import { BottleError, errorMessage, isBottleError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from "../../../lib/errors.js";
import { findOnPath } from "../../../lib/host-tools.js";
import { acquireStageLock, LOCK_FILE, runGraph, type RunResult, type TaskDef } from "../../../graph/index.js";
import type { LaunchRequest } from "../../types.js";
import { registerBottle } from "../../../app/registry.js";
import { writableWorkspaces } from "../../../config/host-checks.js";
import { jailLayout } from "../jail/index.js";
import { startControlServer } from "../process/control.js";
import { Smolvm } from "../process/smolvm.js";
import { Supervisor } from "../process/supervisor.js";
import { subnetForSlug } from "../subnet.js";
import { liveRuntimeRecord } from "../runtime-record.js";
import { saveLogCopy } from "./logs.js";
import { alreadyRunning, RunRecord } from "./run-record.js";
import type { LaunchServices } from "./services.js";
import { newPlaceholders, smolvmEnvironment } from "../injection.js";
import { applyPipelockConfig, type ApplyResult } from "./pipelock.js";
import { markStage, checkStageDir } from "../stage-dir.js";

const PORT_ATTEMPTS = 3;
/** How long a live reload waits for pipelock to say it runs the new config (measured: 135-217 ms). */
const PIPELOCK_RELOAD_TIMEOUT_MS = 10_000;

/** The control reply for a live reload: its first word says whether the new config is in effect (see live.ts). */
function describeApply(result: ApplyResult, pid: number): string {
  const version = `pipelock.yaml ${result.hash.slice(0, 12)}`;
  switch (result.state) {
    case "applied":
      return `reloaded pipelock (pid ${pid}) ${result.already ? "already runs" : "now runs"} ${version}`;
    case "rejected":
      return `rejected pipelock (pid ${pid}) refused ${version}: ${result.reason}`;
    case "timeout":
      return `timeout pipelock (pid ${pid}) did not report loading ${version} within ${PIPELOCK_RELOAD_TIMEOUT_MS / 1000} s`;
  }
}

export interface LaunchOptions extends LaunchRequest {
  tasks: readonly TaskDef<BottleContext>[];
  target: string;
}

export async function runLaunch(options: LaunchOptions): Promise<number> {
  const { ctx, say } = options;
  const slug = ctx.config.name;
  const controller = new AbortController();
  const supervisor = new Supervisor({ searchPath: ctx.pathEnv, cwd: ctx.stageDir });
  let stopRequested = false;
  // Set by the first signal, whenever it comes: at a terminal, Ctrl-C also
  // reaches the smolvm call in progress, whose exit may be seen first and
  // fail its step before the abort does.
  let signalled = false;
  // Set when a child the bottle depends on died on its own.
  let lost: string | undefined;
  let lock: { release(): void } | undefined;
  let record: RunRecord | undefined;

  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      say(`${name} again: killing every child process now`);
      supervisor.killEverything();
      // Nothing is left for the record and the sockets to describe.
      record?.release();
      lock?.release();
      process.exit(EXIT_INTERRUPTED);
    }
    say(`${name}: stopping ${slug} (press Ctrl-C again to force)`);
    signalled = true;
    controller.abort(new Error(`interrupted by ${name}`));
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const name of signals) process.on(name, onSignal);
  // A closed terminal (SIGHUP) makes every later write fail with EPIPE/EIO;
  // unhandled, that error would kill bottle in the middle of its teardown.
  const ignoreWriteError = (): void => undefined;
  process.stdout.on("error", ignoreWriteError);
  process.stderr.on("error", ignoreWriteError);

  checkStageDir(ctx.stageDir, { create: true });
  // A running launch holds the stage lock until the agent is attached: say
  // it is running now, rather than after the lock wait times out.
  const running = liveRuntimeRecord(ctx.runDir);
  if (running) {
    for (const name of signals) process.off(name, onSignal);
    throw alreadyRunning(running);
  }
  try {
    lock = await acquireStageLock(join(ctx.stageDir, LOCK_FILE), { command: `bottle ${options.mode}`, timeoutMs: options.lockTimeoutMs });
  } catch (error) {
    for (const name of signals) process.off(name, onSignal);
    throw error;
  }

  let control: { close(): Promise<void> } | undefined;
  let markTornDown!: () => void;
  const tornDown = new Promise<void>((resolve) => (markTornDown = resolve));
  let result: RunResult | undefined;
  let besideRun: Promise<void> | undefined;
  const besideStop = new AbortController();

  try {
    const octet = subnetForSlug(slug, ctx.config.network.subnetOctet).octet;
    const claimed = RunRecord.claim(ctx.runDir, { slug, stageDir: ctx.stageDir, configPath: ctx.configPath, octet });
    record = claimed.record;
    for (const line of claimed.cleanedStale) say(line);
    markStage(ctx.stageDir, slug);
    registerBottle({ slug, backend: ctx.config.backend, configPath: ctx.configPath, stageDir: ctx.stageDir, runDir: ctx.runDir, octet, writable: writableWorkspaces(ctx.config), updatedAt: Date.now() });
    control = await startControlServer(record.control, {
      stop: async () => {
        stopRequested = true;
        controller.abort(new Error("stopped by `bottle stop`"));
        await tornDown;
        return "stopped";
      },
      reload: async (target) => {
        const child = target === "pipelock" ? supervisor.process(target) : undefined;
        if (!child) return `error ${target} is not running (only pipelock reloads)`;
        return describeApply(await applyPipelockConfig(ctx, { logFile: child.logFile, timeoutMs: PIPELOCK_RELOAD_TIMEOUT_MS }), child.pid);
      },
    });

    const placeholders = newPlaceholders(ctx.config);
    const services: LaunchServices = {
      supervisor,
      smolvm: new Smolvm(supervisor, findOnPath("smolvm", ctx.pathEnv) ?? "smolvm", controller.signal, smolvmEnvironment(ctx.config, placeholders)),
      placeholders,
      record,
      signal: controller.signal,
      unsafeNoJail: options.unsafeNoJail,
      tty: Boolean(process.stdin.isTTY),
      attached: false,
      warn: (message) => say(`warning: ${message}`),
      say,
      fail: (message) => {
        // Once teardown has begun, children ending is expected.
        if (controller.signal.aborted || supervisor.isTearingDown) return;
        lost = message;
        say(`${slug}: ${message}; stopping it`);
        controller.abort(new BottleError("failed", message));
      },
      handoff: async () => {
        lock?.release();
        await options.view.release();
        if (options.beside) besideRun = options.beside(besideStop.signal);
      },
    };

    for (let attempt = 1; ; attempt++) {
      result = await runGraph({
        tasks: options.tasks,
        ctx: { ...ctx, launch: services },
        root: ctx.stageDir,
        targets: [options.target],
        lock: false,
        signal: controller.signal,
        onEvent: (event) => options.view.onEvent(event),
      });
      const portTaken = Object.values(result.failures).find((f) => isBottleError(f.cause, "port-taken"));
      if (!portTaken || attempt >= PORT_ATTEMPTS || controller.signal.aborted) break;
      const undone = await supervisor.teardown();
      say(`${portTaken.message}; re-allocating ports and trying again (attempt ${attempt + 1} of ${PORT_ATTEMPTS})${undone.cleaned.length ? `; undid: ${undone.cleaned.join(", ")}` : ""}`);
    }
    await options.view.finished();
  } finally {
    besideStop.abort();
    await besideRun?.catch(() => undefined);
    const undone = await supervisor.teardown();
    // Only this launch's own gvproxy log: a launch that could not claim the run dir must not copy another's.
    if (record) saveGvproxyLog(ctx, say);
    record?.release();
    lock.release();
    // `bottle stop` waits for this; the control server closes only after it has replied.
    markTornDown();
    await control?.close();
    for (const name of signals) process.off(name, onSignal);
    report(options, result, undone, stopRequested, signalled, lost);
  }
  return lost !== undefined ? EXIT_FAILED : exitCode(result, stopRequested, signalled);
}

function saveGvproxyLog(ctx: BottleContext, say: (message: string) => void): void {
  // In the middle of the teardown: a log that cannot be kept (a symlink planted in its place) must not stop it.
  try {
    // Written from inside the jail: read without following a symlink (or opening a FIFO) the jail may have put there.
    saveLogCopy(jailLayout(ctx.runDir).gvproxyLog, ctx.stageDir, "gvproxy");
  } catch (error) {
    say(`warning: gvproxy's log was not kept: ${errorMessage(error)}`);
  }
}

function attachResult(result: RunResult | undefined): number | undefined {
  const attach = result?.results.attach as { exitCode?: number } | undefined;
  return result?.outcomes.attach === "ran" ? attach?.exitCode : undefined;
}

function exitCode(result: RunResult | undefined, stopRequested: boolean, signalled: boolean): number {
  if (stopRequested) return EXIT_OK;
  if (signalled) return EXIT_INTERRUPTED;
  const agent = attachResult(result);
  if (result?.interrupted) return EXIT_INTERRUPTED;
  if (agent !== undefined) return agent;
  return EXIT_FAILED;
}

function report(
  options: LaunchOptions,
  result: RunResult | undefined,
  undone: { cleaned: string[]; errors: string[] },
  stopRequested: boolean,
  signalled: boolean,
  lost: string | undefined,
): void {
  const { say, ctx } = options;
  const slug = ctx.config.name;
  const failed = result ? Object.entries(result.failures).find(([, f]) => f.reason !== "interrupted") : undefined;
  const agent = attachResult(result);
  if (lost !== undefined) say(`${slug} was stopped because ${lost.replace(/;.*$/, "")}.`);
  else if (signalled && !stopRequested) {
    // A step that failed once the signal was out failed because of it (its child got the same Ctrl-C).
    say(`${slug} was interrupted.${failed ? ` (\`${failed[0]}\` stopped with: ${failed[1].message})` : ""}`);
  } else if (failed) say(`${options.mode} failed at \`${failed[0]}\`: ${failed[1].message}`);
  else if (stopRequested) say(`${slug} was stopped by \`bottle stop\`.`);
  else if (result?.interrupted) say(`${slug} was interrupted.`);
  else if (agent !== undefined) say(`the agent exited with code ${agent}.`);
  if (undone.cleaned.length) say(`cleaned up, in reverse order: ${undone.cleaned.join("; ")}`);
  for (const error of undone.errors) say(`warning: could not undo ${error}`);
  if (result && (agent !== undefined || result.interrupted || signalled || stopRequested || failed || lost !== undefined)) {
    say(`${slug} is stopped; \`bottle resume ${slug}\` starts it again, reusing everything still fresh.`);
  }
}
