// The watcher's state machine, as wireit's: pure transitions, effects as
// values. The driver (watcher.ts) performs the effects and feeds back events.
//
//             change                  timer (content changed)
//   idle ───────────────▶ debouncing ────────────────────────▶ running
//    ▲ ▲                   │  ▲  ▲ │ change: restart timer       │   │
//    │ └─timer (unchanged)─┘  │  └─┘                       change│   │ done
//    │                        └──────── done ──────── queued ◀───┘   │
//    │                                     (change: stays queued)     │
//    └───────────────────── done (nothing queued) ────────────────────┘
//
//   stop from any state → stopping (a running run is aborted; when it is
//   done, or at once if none runs → exit).
//
// Runs never overlap, and at most one is queued: a burst of changes while a
// run is going collapses into one queued run, which reads the latest content
// when it starts. When the debounce timer fires, the driver says whether any
// watched file's content now differs from what the last run read: a burst
// that ends where it started (a save without edits that truncated the file
// first, an edit undone) starts no run.

export type WatchState = "idle" | "debouncing" | "running" | "queued" | "stopping" | "stopped";

export type WatchEvent = { type: "change" } | { type: "timer"; changed: boolean } | { type: "done" } | { type: "stop" };

export type Effect = { type: "start-timer" } | { type: "cancel-timer" } | { type: "run" } | { type: "abort-run" } | { type: "exit" };

export interface Transition {
  state: WatchState;
  effects: Effect[];
}

export function transition(state: WatchState, event: WatchEvent): Transition {
  switch (event.type) {
    case "stop":
      return onStop(state);
    case "change":
      return onChange(state);
    case "timer":
      return onTimer(state, event.changed);
    case "done":
      return onDone(state);
  }
}

function onChange(state: WatchState): Transition {
  switch (state) {
    case "idle":
    case "debouncing":
      return { state: "debouncing", effects: [{ type: "start-timer" }] };
    case "running":
    case "queued":
      return { state: "queued", effects: [] };
    case "stopping":
    case "stopped":
      return { state, effects: [] };
  }
}

function onTimer(state: WatchState, changed: boolean): Transition {
  if (state !== "debouncing") return { state, effects: [] };
  return changed ? { state: "running", effects: [{ type: "run" }] } : { state: "idle", effects: [] };
}

function onDone(state: WatchState): Transition {
  switch (state) {
    case "running":
      return { state: "idle", effects: [] };
    case "queued":
      return { state: "debouncing", effects: [{ type: "start-timer" }] };
    case "stopping":
      return { state: "stopped", effects: [{ type: "exit" }] };
    default:
      return { state, effects: [] };
  }
}

function onStop(state: WatchState): Transition {
  switch (state) {
    case "running":
    case "queued":
      return { state: "stopping", effects: [{ type: "abort-run" }] };
    case "debouncing":
      return { state: "stopped", effects: [{ type: "cancel-timer" }, { type: "exit" }] };
    case "idle":
      return { state: "stopped", effects: [{ type: "exit" }] };
    case "stopping":
    case "stopped":
      return { state, effects: [] };
  }
}
