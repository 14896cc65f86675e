// npm run acceptance [-- --json] [-- --unsafe-no-jail]: the escape
// acceptance suite as a table (or one JSON object per attempt); with
// --unsafe-no-jail it shows what the jail is for (rows must then fail). Exit 0 when every attempt is blocked and every
// control passes; 1 otherwise; a run that cannot happen prints `skipped:` and
// exits 0, or 1 with CI set.
import { skipSuite } from "../helpers/skip.js";
import { runAcceptance } from "./harness.js";
import { formatTable } from "./rows.js";

const json = process.argv.includes("--json");
const outcome = await runAcceptance({ unsafeNoJail: process.argv.includes("--unsafe-no-jail") });
if ("skipped" in outcome) {
  skipSuite("acceptance", outcome.skipped);
  process.exitCode = process.env.CI ? 1 : 0;
} else {
  const failed = outcome.rows.filter((r) => !r.pass).length;
  if (json) {
    for (const row of outcome.rows) console.log(JSON.stringify(row));
  } else {
    for (const [tool, path] of Object.entries(outcome.tools)) console.log(`${tool}: ${path}`);
    console.log(`launch to the probe's first line: ${outcome.launchToAgentMs ?? "never"} ms; bottle launch exited ${outcome.exitCode}\n`);
    console.log(formatTable(outcome.rows));
    console.log(`\n${outcome.rows.length - failed} of ${outcome.rows.length} rows pass`);
  }
  if (failed) {
    if (!json) console.log(`\nbottle's output:\n${outcome.output.replace(/^/gm, "  | ")}`);
    process.exitCode = 1;
  }
}
