// A launch's state, as one value changed only by events (a reducer, like
// the watcher's): why it is ending, if it is, and whether the agent has the
// terminal. The driver (launch.ts) feeds it signals, control-socket
// requests and the steps' reports, and performs the effects it returns.
//
//   starting ──(agent attached)──▶ attached
//      │                              │
//      └──── signal, `bottle stop`, a child lost: ending (aborted) ───▶ teardown
//                   a second signal while ending: forced (kill everything, exit 130)
import type { ControlRequest } from "../../backends/smolmachines/process/control.js";

export interface LaunchState {
  /** The launch is ending early: the first signal, `bottle stop`, or a child lost, and everything since. */
  readonly stopRequested: boolean;
  /** The first signal, when one came. */
  readonly signal: NodeJS.Signals | null;
  /** The child the bottle depended on that ended on its own, when one did. */
  readonly lostChild: { what: string; log: string } | null;
  /** The launch's signal has been aborted (by any of the above). */
  readonly aborting: boolean;
  /** Steps are being undone: children ending now is expected. */
  readonly tearingDown: boolean;
  /** The agent has the terminal. */
  readonly attached: boolean;
}

export const initialLaunchState: LaunchState = {
  stopRequested: false,
  signal: null,
  lostChild: null,
  aborting: false,
  tearingDown: false,
  attached: false,
};

export type LaunchEvent =
  | { type: "signal"; name: NodeJS.Signals }
  /** A request on the control socket; `reply` answers it. */
  | { type: "control"; request: ControlRequest; reply(text: string): void }
  | { type: "child-lost"; what: string; log: string }
  | { type: "agent-attached" }
  | { type: "teardown-started" }
  | { type: "teardown-finished" };

export type LaunchEffect =
  | { type: "say"; message: string }
  /** Aborts the launch's signal: running steps stop, the rest are blocked. */
  | { type: "abort"; reason: string }
  /** The second signal: every child killed now, the record and lock released, exit 130. */
  | { type: "force-exit" }
  /** Answers `stop` once everything is torn down. */
  | { type: "reply-when-torn-down"; reply(text: string): void }
  | { type: "reload"; target: string; reply(text: string): void };

export interface LaunchTransition {
  state: LaunchState;
  effects: LaunchEffect[];
}

export function reduceLaunch(state: LaunchState, event: LaunchEvent, slug: string): LaunchTransition {
  switch (event.type) {
    case "signal":
      if (state.aborting) return { state, effects: [{ type: "say", message: `${event.name} again: killing every child process now` }, { type: "force-exit" }] };
      return {
        state: { ...state, signal: event.name, aborting: true },
        effects: [
          { type: "say", message: `${event.name}: stopping ${slug} (press Ctrl-C again to force)` },
          { type: "abort", reason: `interrupted by ${event.name}` },
        ],
      };
    case "control":
      return onControl(state, event.request, event.reply);
    case "child-lost":
      // Once the launch is ending, children ending is expected.
      if (state.aborting || state.tearingDown) return { state, effects: [] };
      return {
        state: { ...state, lostChild: { what: event.what, log: event.log }, aborting: true },
        effects: [
          { type: "say", message: `${slug}: ${event.what}; see ${event.log}; stopping it` },
          { type: "abort", reason: `${event.what}; see ${event.log}` },
        ],
      };
    case "agent-attached":
      return { state: { ...state, attached: true }, effects: [] };
    case "teardown-started":
      return { state: { ...state, tearingDown: true }, effects: [] };
    case "teardown-finished":
      // A launch that retries (a port was lost) starts over.
      return { state: { ...state, tearingDown: false }, effects: [] };
  }
}

function onControl(state: LaunchState, request: ControlRequest, reply: (text: string) => void): LaunchTransition {
  switch (request.verb) {
    case "stop": {
      const effects: LaunchEffect[] = state.aborting ? [] : [{ type: "abort", reason: "stopped by `bottle stop`" }];
      effects.push({ type: "reply-when-torn-down", reply });
      return { state: { ...state, stopRequested: true, aborting: true }, effects };
    }
    case "reload":
      return { state, effects: [{ type: "reload", target: request.target, reply }] };
  }
}
