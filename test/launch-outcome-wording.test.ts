// The closing line of a launch says how it ended. A step's error is printed
// once: by the progress view when it shows failures (plain and terminal
// views), else (--json) by the closing line; whatever else ended the launch
// (bottle stop, Ctrl-C) as well.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describeNextStep, describeOutcome, type Outcome } from "../src/app/launch/outcome.js";

const failure = { task: "sidecars", message: "pipelock exited (exit code 1) before 127.0.0.1:4000 accepted connections" };
const withFailure: Outcome[] = [
  { kind: "step-failed", failure },
  { kind: "stopped", failure },
  { kind: "interrupted", failure },
];

for (const outcome of withFailure) {
  test(`${outcome.kind}: the step's error is left to a view that shows it, and named once otherwise`, () => {
    const shown = describeOutcome(outcome, { slug: "demo", mode: "launch", failureShown: true }) ?? "";
    assert.not.match(shown, failure.message, shown);
    assert.match(shown, "`sidecars`", shown);
    const notShown = describeOutcome(outcome, { slug: "demo", mode: "launch", failureShown: false }) ?? "";
    assert.is(notShown.split(failure.message).length - 1, 1, notShown);
  });
}

test("nothing started: a stopped or interrupted launch is not told to fix an error; a failed one is", () => {
  const unregistered = { slug: "demo", started: false, registered: false };
  for (const outcome of [{ kind: "stopped", failure: null }, { kind: "interrupted", failure: null }] as Outcome[]) {
    assert.is(describeNextStep(outcome, unregistered), "Nothing was started. demo is not registered; `bottle launch` again.");
  }
  assert.is(describeNextStep({ kind: "step-failed", failure }, unregistered), "Nothing was started. demo is not registered; `bottle launch` again once the error is fixed.");
  assert.is(describeNextStep({ kind: "step-failed", failure }, { ...unregistered, registered: true }), "Nothing was started.");
  assert.match(describeNextStep({ kind: "stopped", failure: null }, { ...unregistered, started: true }), "`bottle resume demo` starts it again");
});

test.run();
