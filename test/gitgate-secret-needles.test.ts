// The push check's secret needles: a secret is found in plain text and
// base64-encoded (standard and URL-safe) at whatever offset it sits in the
// encoded text; an unrelated text is not flagged; redact() leaves no value.
import { randomBytes } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findNeedle, needlesFor, redact } from "../src/gitgate/secret-needles.js";

const secret = `sk-${randomBytes(18).toString("hex")}`;
const needles = needlesFor(new Map([["secret API_KEY", secret]]));

test("the plain value, anywhere", () => {
  assert.is(findNeedle(`x=${secret};`, needles)?.encoding, "plain");
});

test("base64 at every alignment, with any text around it, in both alphabets", () => {
  for (let prefix = 0; prefix < 9; prefix++) {
    for (let suffix = 0; suffix < 4; suffix++) {
      const text = Buffer.concat([randomBytes(prefix), Buffer.from(secret), randomBytes(suffix)]);
      for (const encoded of [text.toString("base64"), text.toString("base64url")]) {
        const found = findNeedle(`header ${encoded} trailer`, needles);
        assert.is(found?.encoding, "base64", `prefix ${prefix}, suffix ${suffix}: ${encoded}`);
        assert.is(found?.secret, "secret API_KEY");
      }
    }
  }
});

test("text without the secret is not flagged", () => {
  for (let i = 0; i < 200; i++) {
    const text = randomBytes(64);
    assert.is(findNeedle(`${text.toString("hex")} ${text.toString("base64")}`, needles), null);
  }
});

test("redact replaces the value and its encodings with the secret's name", () => {
  const line = `ref agent/${secret} and ${Buffer.from(secret).toString("base64")}`;
  const clean = redact(line, needles);
  assert.not.match(clean, secret);
  assert.not.ok(clean.includes(Buffer.from(secret).toString("base64").slice(4, 20)));
  assert.match(clean, "[secret API_KEY]");
});

test.run();
