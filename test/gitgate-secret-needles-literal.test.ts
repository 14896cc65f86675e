// The push check's needles against literal encodings (issue 20: mutants in
// secret-needles.ts survived because the existing suite's random hex secret
// never encodes to `+` or `/`). Expected values are written out here, as
// base64 (RFC 4648 §4) and base64url (§5) encode them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findNeedle, needlesFor, redact } from "../src/gitgate/secret-needles.js";

function needleTexts(value: string): string[] {
  return needlesFor(new Map([["secret S", value]])).map((needle) => `${needle.encoding}:${needle.bytes.toString()}`);
}

test("a value whose base64 holds + and /: the standard and the URL-safe stems are both needles", () => {
  // base64("~~~???>>>") = "fn5+Pz8/Pj4+"; base64url = "fn5-Pz8_Pj4-".
  const texts = needleTexts("~~~???>>>");
  assert.ok(texts.includes("plain:~~~???>>>"));
  assert.ok(texts.includes("base64:fn5+Pz8/Pj4+"), texts.join(" "));
  assert.ok(texts.includes("base64:fn5-Pz8_Pj4-"), texts.join(" "));
  const needles = needlesFor(new Map([["secret S", "~~~???>>>"]]));
  assert.is(findNeedle("Authorization: Basic fn5-Pz8_Pj4-", needles)?.secret, "secret S");
  // At offset 1 (one byte before it): base64url("x~~~???>>>") = "eH5-fj8_Pz4-Pg".
  assert.is(findNeedle("token=eH5-fj8_Pz4-Pg", needles)?.encoding, "base64");
});

test("the shortest stem kept is 4 characters: a 3-byte value has one at offset 0, a 2-byte value none", () => {
  // base64("abc") = "YWJj": all four characters depend on the value alone.
  assert.ok(needleTexts("abc").includes("base64:YWJj"), needleTexts("abc").join(" "));
  assert.equal(needleTexts("ab"), ["plain:ab"]);
});

test("an empty value is no needle (it would match every push); the same value twice is one set of needles", () => {
  const needles = needlesFor(new Map([["secret EMPTY", ""]]));
  assert.equal(needles, []);
  assert.is(findNeedle("any content at all", needles), null);
  const once = needlesFor(new Map([["secret A", "hunter2hunter2"]])).length;
  assert.is(needlesFor(new Map([["secret A", "hunter2hunter2"], ["secret B", "hunter2hunter2"]])).length, once);
});

test("redact replaces the longer value first: a secret inside another leaves no part of the outer one", () => {
  const needles = needlesFor(new Map([["secret OUTER", "abcdefghij"], ["secret INNER", "defg"]]));
  assert.is(redact("x abcdefghij y", needles), "x [secret OUTER] y");
  assert.is(redact("x defg y", needles), "x [secret INNER] y");
});

test("redact sorts by length, whatever order the secrets come in: the inner one listed first still leaves no part of the outer one", () => {
  const needles = needlesFor(new Map([["secret INNER", "defg"], ["secret OUTER", "abcdefghij"]]));
  assert.is(redact("x abcdefghij y", needles), "x [secret OUTER] y");
  assert.is(redact("x defg y", needles), "x [secret INNER] y");
});

test.run();
