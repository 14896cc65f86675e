// The escape acceptance suite (test/acceptance) on the real network path:
// every attempt to get out of the bottle fails and every control passes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { runAcceptance } from "./acceptance/harness.js";
import { formatTable } from "./acceptance/rows.js";

const outcome = await runAcceptance();
if ("skipped" in outcome) {
  skipSuite("acceptance-escapes-blocked", outcome.skipped);
} else {
  console.log(formatTable(outcome.rows));
  for (const row of outcome.rows) {
    test(`${row.attempt}: ${row.expected}`, () => {
      assert.ok(row.pass, `${row.observed}\nbottle's output:\n${outcome.output}`);
    });
  }
  test("the agent's exit code is bottle's", () => {
    assert.is(outcome.exitCode, 0, outcome.output);
  });
  test.run();
}
