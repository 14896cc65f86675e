// What the launch steps share while `bottle launch` runs: the supervisor,
// smolvm, the run record, and the hand-off of the terminal to the agent.
import type { BottleContext } from "../../../context.js";
import type { Smolvm } from "../process/smolvm.js";
import type { Supervisor } from "../process/supervisor.js";
import type { RunRecord } from "./run-record.js";

export interface LaunchServices {
  supervisor: Supervisor;
  smolvm: Smolvm;
  record: RunRecord;
  signal: AbortSignal;
  /** What the guest holds instead of each injected secret, by guest name: random per launch. */
  placeholders: Readonly<Record<string, string>>;
  /** Run gvproxy without a jail (debugging only; said loudly). */
  unsafeNoJail: boolean;
  /** stdin is a terminal: attach with -it. */
  tty: boolean;
  /** Lets go of the progress view and the stage lock before the agent takes the terminal. */
  handoff(): Promise<void>;
  /** Set once the agent is attached: teardown then stops the machine instead of deleting a new one. */
  attached: boolean;
  warn(message: string): void;
  /** A line of the launch's own output (stderr), e.g. where the git gate serves each remote. */
  say(message: string): void;
  /** Ends the launch as failed (a sidecar or gvproxy died after it was ready): everything is torn down. */
  fail(message: string): void;
}

export function launchServices(ctx: BottleContext): LaunchServices {
  if (!ctx.launch) throw new Error("a launch step ran outside `bottle launch`");
  return ctx.launch as LaunchServices;
}
