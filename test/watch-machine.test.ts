// Proves the watcher's pure state machine (src/app/watch/watch-states.ts): every
// transition of the diagram, stop from each state, at most one queued run,
// and a stop during a run that exits only once the run is done.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { transition, type Effect, type WatchEvent, type WatchState } from "../src/app/watch/watch-states.js";

const STATES: WatchState[] = ["idle", "debouncing", "running", "queued", "stopping", "stopped"];
/** `timer` is the debounce ending with some file's content changed; `settled` with none changed. */
type Name = "change" | "timer" | "settled" | "done" | "stop";
const EVENTS: Name[] = ["change", "timer", "settled", "done", "stop"];

function eventOf(name: Name): WatchEvent {
  if (name === "timer") return { type: "timer", changed: true };
  if (name === "settled") return { type: "timer", changed: false };
  return { type: name };
}

/** Applies events in order; returns every state passed through and every effect, in order. */
function drive(start: WatchState, events: Name[]): { states: WatchState[]; effects: Effect["type"][] } {
  let state = start;
  const states: WatchState[] = [];
  const effects: Effect["type"][] = [];
  for (const name of events) {
    const next = transition(state, eventOf(name));
    state = next.state;
    states.push(state);
    effects.push(...next.effects.map((e) => e.type));
  }
  return { states, effects };
}

// The whole table: (state, event) → (state, effects). Nothing implicit.
const TABLE: Record<WatchState, Record<Name, [WatchState, Effect["type"][]]>> = {
  idle: {
    change: ["debouncing", ["start-timer"]],
    timer: ["idle", []],
    settled: ["idle", []],
    done: ["idle", []],
    stop: ["stopped", ["exit"]],
  },
  debouncing: {
    change: ["debouncing", ["start-timer"]],
    timer: ["running", ["run"]],
    settled: ["idle", []],
    done: ["debouncing", []],
    stop: ["stopped", ["cancel-timer", "exit"]],
  },
  running: {
    change: ["queued", []],
    timer: ["running", []],
    settled: ["running", []],
    done: ["idle", []],
    stop: ["stopping", ["abort-run"]],
  },
  queued: {
    change: ["queued", []],
    timer: ["queued", []],
    settled: ["queued", []],
    done: ["debouncing", ["start-timer"]],
    stop: ["stopping", ["abort-run"]],
  },
  stopping: {
    change: ["stopping", []],
    timer: ["stopping", []],
    settled: ["stopping", []],
    done: ["stopped", ["exit"]],
    stop: ["stopping", []],
  },
  stopped: {
    change: ["stopped", []],
    timer: ["stopped", []],
    settled: ["stopped", []],
    done: ["stopped", []],
    stop: ["stopped", []],
  },
};

for (const state of STATES) {
  for (const name of EVENTS) {
    const [expectedState, expectedEffects] = TABLE[state][name];
    test(`${state} --${name}--> ${expectedState} [${expectedEffects.join(", ")}]`, () => {
      const next = transition(state, eventOf(name));
      assert.is(next.state, expectedState);
      assert.equal(
        next.effects.map((e) => e.type),
        expectedEffects,
      );
    });
  }
}

test("transition is pure: the same input always gives an equal, fresh answer", () => {
  for (const state of STATES) {
    for (const name of EVENTS) {
      const a = transition(state, eventOf(name));
      const b = transition(state, eventOf(name));
      assert.equal(a, b);
      assert.is.not(a.effects, b.effects, "effects must not be a shared array a caller could mutate");
    }
  }
});

test("a change while running queues exactly one run; more changes keep it one", () => {
  const { states, effects } = drive("running", ["change", "change", "change", "change"]);
  assert.equal(states, ["queued", "queued", "queued", "queued"]);
  assert.equal(effects, [], "no run starts while one is running, however many changes come in");
  // When the current run is done, exactly one more run follows (after a debounce).
  const after = drive("queued", ["done", "timer", "done"]);
  assert.equal(after.states, ["debouncing", "running", "idle"]);
  assert.equal(after.effects.filter((e) => e === "run").length, 1);
});

test("done while queued debounces again before the queued run starts", () => {
  const next = transition("queued", { type: "done" });
  assert.is(next.state, "debouncing");
  assert.equal(
    next.effects.map((e) => e.type),
    ["start-timer"],
  );
  assert.not.ok(next.effects.some((e) => e.type === "run"), "the queued run waits for the burst to settle");
});

test("a burst while debouncing restarts the timer each time and starts one run", () => {
  const { states, effects } = drive("idle", ["change", "change", "change", "timer"]);
  assert.equal(states, ["debouncing", "debouncing", "debouncing", "running"]);
  assert.equal(effects, ["start-timer", "start-timer", "start-timer", "run"]);
});

test("a burst that ends with every file as the last run read it starts no run", () => {
  // e.g. a save without edits that truncated the file first, or an edit undone before the debounce ended.
  const { states, effects } = drive("idle", ["change", "change", "settled"]);
  assert.equal(states, ["debouncing", "debouncing", "idle"]);
  assert.not.ok(effects.includes("run"));
  // Behind a run too: the queued change was undone by the time the debounce ended.
  const queued = drive("running", ["change", "done", "settled"]);
  assert.equal(queued.states, ["queued", "debouncing", "idle"]);
  assert.not.ok(queued.effects.includes("run"));
});

test("runs never overlap: no sequence of events starts a run while one is running", () => {
  // Exhaustive over every event sequence of length 6 from idle: count runs
  // started minus runs done; it must never exceed one.
  let sequences = 0;
  const walk = (state: WatchState, inFlight: number, depth: number): void => {
    if (depth === 0) return void sequences++;
    for (const type of EVENTS) {
      // A "done" only ever arrives for a run in flight.
      if (type === "done" && inFlight === 0) continue;
      const next = transition(state, eventOf(type));
      let flying = inFlight - (type === "done" ? 1 : 0);
      flying += next.effects.filter((e) => e.type === "run").length;
      assert.ok(flying <= 1, `two runs at once after ${type} in ${state}`);
      const running = next.state === "running" || next.state === "queued" || next.state === "stopping";
      assert.is(running, flying === 1, `${flying} runs in flight in state ${next.state} (after ${type} in ${state})`);
      walk(next.state, flying, depth - 1);
    }
  };
  walk("idle", 0, 6);
  assert.ok(sequences > 100);
});

test("stop while running aborts the run and exits only after it is done", () => {
  const stop = transition("running", { type: "stop" });
  assert.is(stop.state, "stopping");
  assert.equal(
    stop.effects.map((e) => e.type),
    ["abort-run"],
  );
  // Changes and timers while stopping start nothing and do not exit.
  const waiting = drive("stopping", ["change", "timer", "stop"]);
  assert.equal(waiting.states, ["stopping", "stopping", "stopping"]);
  assert.equal(waiting.effects, []);
  const done = transition("stopping", { type: "done" });
  assert.is(done.state, "stopped");
  assert.equal(
    done.effects.map((e) => e.type),
    ["exit"],
  );
});

test("stop while queued aborts the run and drops the queued one", () => {
  const { states, effects } = drive("queued", ["stop", "done"]);
  assert.equal(states, ["stopping", "stopped"]);
  assert.equal(effects, ["abort-run", "exit"]);
});

test("stop from idle and from debouncing exits at once; a pending timer is cancelled first", () => {
  assert.equal(drive("idle", ["stop"]).effects, ["exit"]);
  const debouncing = drive("idle", ["change", "stop", "timer"]);
  assert.equal(debouncing.states, ["debouncing", "stopped", "stopped"]);
  assert.equal(debouncing.effects, ["start-timer", "cancel-timer", "exit"], "a timer firing late starts no run");
});

test("every state can reach stopped, and exit is performed exactly once on the way", () => {
  for (const state of STATES.filter((s) => s !== "stopped")) {
    const { states, effects } = drive(state, ["stop", "done", "stop", "done"]);
    assert.is(states.at(-1), "stopped", `from ${state}`);
    assert.is(effects.filter((e) => e === "exit").length, 1, `from ${state}: ${effects.join(", ")}`);
  }
});

test.run();
