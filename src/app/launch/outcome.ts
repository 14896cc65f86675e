// How a launch ended, as one value, and what follows from it: the exit
// code and the line that says so. Every outcome is handled in each switch
// (a new one fails to compile until it is).
import type { RunResult } from "../../graph/index.js";
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, unreachable } from "../../lib/errors.js";
import type { LaunchState } from "./launch-state.js";

/** A step that failed on its own (not because the launch was being stopped). */
export interface StepFailure {
  task: string;
  message: string;
}

export type Outcome =
  /** The agent ran and exited: bottle exits with its code. */
  | { kind: "agent-exited"; code: number }
  /** `bottle stop` from another terminal. */
  | { kind: "stopped"; failure: StepFailure | null }
  /** A signal (Ctrl-C, SIGTERM, a closed terminal); a step that failed once it was out failed because of it. */
  | { kind: "interrupted"; failure: StepFailure | null }
  /** A child the bottle depended on ended on its own. */
  | { kind: "child-lost"; what: string }
  /** A step failed (null: the graph ended without the agent, and no step says why). */
  | { kind: "step-failed"; failure: StepFailure | null };

/** The outcome of a launch whose graph ran to `result`; `agentExit` is the agent's code when the attach step ran. */
export function outcomeOf(state: LaunchState, result: RunResult, agentExit: number | undefined): Outcome {
  const failed = Object.entries(result.failures).find(([, f]) => f.reason !== "interrupted");
  const failure = failed ? { task: failed[0], message: failed[1].message } : null;
  if (state.lostChild) return { kind: "child-lost", what: state.lostChild.what };
  if (state.stopRequested) return { kind: "stopped", failure };
  if (state.signal) return { kind: "interrupted", failure };
  if (failure) return { kind: "step-failed", failure };
  if (result.interrupted) return { kind: "interrupted", failure: null };
  if (agentExit !== undefined) return { kind: "agent-exited", code: agentExit };
  return { kind: "step-failed", failure: null };
}

export function exitCodeOf(outcome: Outcome): number {
  switch (outcome.kind) {
    case "agent-exited":
      return outcome.code;
    case "stopped":
      return EXIT_OK;
    case "interrupted":
      return EXIT_INTERRUPTED;
    case "child-lost":
    case "step-failed":
      return EXIT_FAILED;
    default:
      return unreachable(outcome);
  }
}

export interface OutcomeWording {
  slug: string;
  mode: "launch" | "resume";
  /** The progress view already printed the failed step's error: say where it failed, not the error again. */
  failureShown: boolean;
}

/** The line that says how it ended; null when there is nothing to say. */
export function describeOutcome(outcome: Outcome, { slug, mode, failureShown }: OutcomeWording): string | null {
  const because = (failure: StepFailure | null): string => (failure ? ` (\`${failure.task}\` stopped with: ${failureShown ? "its error above" : failure.message})` : "");
  switch (outcome.kind) {
    case "agent-exited":
      return `the agent exited with code ${outcome.code}.`;
    case "stopped":
      return `${slug} was stopped by \`bottle stop\`.${because(outcome.failure)}`;
    case "interrupted":
      return `${slug} was interrupted.${because(outcome.failure)}`;
    case "child-lost":
      return `${slug} was stopped because ${outcome.what}.`;
    case "step-failed":
      if (!outcome.failure) return null;
      return `${mode} failed at \`${outcome.failure.task}\`${failureShown ? " (its error is above)." : `: ${outcome.failure.message}`}`;
    default:
      return unreachable(outcome);
  }
}

/**
 * The last line: how to start it again when anything had started; else that
 * nothing was, and, for a bottle this launch registered (and so removed),
 * to launch it again (once the error is fixed, when a step failed).
 */
export function describeNextStep(outcome: Outcome, { slug, started, registered }: { slug: string; started: boolean; registered: boolean }): string {
  if (started) return `${slug} is stopped; \`bottle resume ${slug}\` starts it again, reusing everything still fresh.`;
  if (registered) return "Nothing was started.";
  return `Nothing was started. ${slug} is not registered; \`bottle launch\` again${outcome.kind === "step-failed" ? " once the error is fixed" : ""}.`;
}

/** When the launch itself failed before its graph ran (a claim, a lock): what stopped it early, if anything did. */
export function describeEarlyEnd(state: LaunchState, slug: string): string | null {
  if (state.lostChild) return `${slug} was stopped because ${state.lostChild.what}.`;
  if (state.stopRequested) return `${slug} was stopped by \`bottle stop\`.`;
  if (state.signal) return `${slug} was interrupted.`;
  return null;
}
