// bottle reads tldts's compiled suffix list (not its public API) to refuse a
// wildcard with public suffixes below it (`*.amazonaws.com`). If a tldts
// update changed that data's shape, the walk would silently answer "none
// below" and let the wildcard through; bottle must refuse to answer instead
// (issue 20: `npm run mutate` found the shape check unpinned). Each case
// plants data with one field of the wrong type where bottle's require finds
// it (Node's CommonJS module cache), before bottle first reads it.
import { createRequire } from "node:module";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { egressHostProblem } from "../src/config/egress-host.js";

const require = createRequire(import.meta.url);
const TRIE = require.resolve("tldts/dist/cjs/src/data/trie.js");
const real = require(TRIE) as Record<string, unknown>;
const cached = require.cache[TRIE]!;

test("suffix list data with a field of the wrong type is refused, not walked", () => {
  const broken: Record<string, Record<string, unknown>> = {
    "nodeFlags not a Uint8Array": { ...real, nodeFlags: Array.from(real.nodeFlags as Uint8Array) },
    "labelText not a string": { ...real, labelText: (real.labelText as string).split("") },
    "rulesRoot not a number": { ...real, rulesRoot: String(real.rulesRoot) },
  };
  try {
    for (const [why, data] of Object.entries(broken)) {
      require.cache[TRIE] = { ...cached, exports: data } as NodeJS.Module;
      assert.throws(() => egressHostProblem("*.amazonaws.com"), /unexpected shape/, why);
    }
  } finally {
    require.cache[TRIE] = cached;
  }
  assert.match(egressHostProblem("*.amazonaws.com") ?? "", /spans public suffixes registered under `amazonaws\.com`/, "the real data, once restored");
});

test.run();
