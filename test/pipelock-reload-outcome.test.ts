// Proves how a live reload's fate is read from pipelock's log: applied only
// by a success line carrying the hash of the bytes bottle installed (lines
// for an earlier write do not count), rejected by pipelock's CONFIG_RELOAD
// error or its stderr load failure, and undecided while neither has come.
// The line shapes are the pinned real pipelock's (see pipelock-log.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lastLoadedConfigHash, reloadOutcome } from "../src/backends/smolmachines/pipelock-log.js";

const HASH = "a".repeat(64);
const OTHER = "b".repeat(64);
const line = (fields: Record<string, unknown>) => JSON.stringify({ level: "info", component: "pipelock", ...fields, time: "2026-12-06T05:06:29Z" });

test("applied: a config_reload success with the hash of the installed bytes", () => {
  assert.equal(reloadOutcome(line({ event: "config_reload", status: "success", detail: "mode=strict", config_hash: HASH }), HASH), { applied: true });
});

test("a success for another hash (an earlier write) or a request line is not an answer", () => {
  const text = [line({ event: "config_reload", status: "success", config_hash: OTHER }), line({ event: "blocked", reason: "domain not in allowlist: x" })].join("\n");
  assert.is(reloadOutcome(text, HASH), null);
  assert.is(reloadOutcome("", HASH), null);
  assert.is(reloadOutcome(`${line({ event: "config_reload", status: "success", config_hash: HASH }).slice(0, 40)}`, HASH), null, "a torn last line");
});

test("rejected: pipelock's CONFIG_RELOAD error, or its stderr line for a file that does not load", () => {
  assert.equal(reloadOutcome(line({ event: "error", method: "CONFIG_RELOAD", resource: "/r/pipelock.yaml", error: "rejected: security downgrade from strict mode" }), HASH), {
    applied: false,
    rejected: "rejected: security downgrade from strict mode",
  });
  assert.equal(reloadOutcome("pipelock: config reload failed: yaml: line 3: mapping values are not allowed", HASH), {
    applied: false,
    rejected: "the config did not load: yaml: line 3: mapping values are not allowed",
  });
});

test("the loaded hash is the last startup or successful reload, whatever came after", () => {
  const text = [
    "Pipelock v1 starting",
    line({ event: "startup", listen: "127.0.0.1:1", config_hash: OTHER }),
    line({ event: "config_reload", status: "success", config_hash: HASH }),
    line({ event: "error", method: "CONFIG_RELOAD", error: "rejected: security downgrade from strict mode" }),
    line({ event: "blocked", reason: `config_hash ${OTHER}` }),
  ].join("\n");
  assert.is(lastLoadedConfigHash(text), HASH);
  assert.is(lastLoadedConfigHash("no json here"), null);
});

test.run();
