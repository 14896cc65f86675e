// What the launch steps share while `bottle launch` runs, beside the
// build's context: the supervisor and the undo stack, smolvm, the launch
// record, and the launch's own hooks (app/launch drives them).
import type { BuildContext } from "../context.js";
import type { AvailableJail } from "../jail/index.js";
import type { ClaimedLaunchRecord } from "../launch-record.js";
import type { Smolvm } from "../process/smolvm.js";
import type { Supervisor } from "../process/supervisor.js";
import type { UndoStack } from "../process/undo-stack.js";

export interface LaunchServices {
  /** Starts and tracks every child process. */
  readonly supervisor: Supervisor;
  /** How to undo each step that has happened: teardown undoes them last first. */
  readonly undo: UndoStack;
  readonly smolvm: Smolvm;
  /** The launch record in the run dir: children, ports, the git gate. */
  readonly record: ClaimedLaunchRecord;
  /** Aborted once the launch is ending (Ctrl-C, `bottle stop`, a child lost). */
  readonly signal: AbortSignal;
  /** What the guest holds instead of each injected secret, by guest name: random per launch. */
  readonly placeholders: Readonly<Record<string, string>>;
  /** Run gvproxy without a jail (debugging only; said loudly). */
  readonly unsafeNoJail: boolean;
  /** stdin is a terminal: attach with -it. */
  readonly tty: boolean;
  /**
   * The network jail gvproxy will run in (null with --unsafe-no-jail),
   * detected once per launch: the sidecars step asks first, so a host
   * without one is refused before anything starts. Refuses with a
   * BottleError when there is none.
   */
  jail(): Promise<AvailableJail | null>;
  /** Lets go of the progress view and the stage lock: the agent takes the terminal next. */
  handOverTerminal(): Promise<void>;
  /** The agent has the terminal: teardown then stops the machine rather than deleting one this launch made. */
  agentAttached(): boolean;
  warn(message: string): void;
  /** A line of the launch's own output (stderr), e.g. where the git gate serves each remote. */
  say(message: string): void;
  /** A child the bottle depends on ended on its own (`what`, see `log`): the launch ends, everything is torn down. */
  childLost(what: string, log: string): void;
}

export interface LaunchContext extends BuildContext {
  readonly launch: LaunchServices;
}

/** Whether a task runs as part of a launch (its context has the launch's services) rather than a build. */
export function isLaunchContext(ctx: BuildContext): ctx is LaunchContext {
  return "launch" in ctx;
}
