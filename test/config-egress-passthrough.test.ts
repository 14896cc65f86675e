// egress.passthrough (hosts reached without TLS interception) takes the
// same hosts egress.allow does and refuses the same ones, since a
// passthrough host is allowed too; maxResponseMiB has bounds; the guest's
// TLS trust variables are bottle's, like its proxy variables.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { validateConfig } from "../src/config/validate.js";
import { DEFAULT_MAX_RESPONSE_MIB } from "../src/config/resolved.js";

const base = { name: "demo", image: "a", agent: { command: ["sh"] } };
const problems = (config: object) => {
  const result = validateConfig({ ...base, ...config }, "/");
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

test("passthrough refuses what allow refuses, naming its own index", () => {
  const found = problems({ egress: { passthrough: ["pinned.example.com", "10.0.0.1", "*.co.uk", "localhost"] } });
  assert.equal(found.map((p) => p.split(":")[0]), ["egress.passthrough[1]", "egress.passthrough[2]", "egress.passthrough[3]"]);
  assert.match(found[0]!, /IP address/);
});

test("defaults: no passthrough host, responses up to the default size", () => {
  const result = validateConfig(base, "/");
  assert.ok(result.ok);
  if (result.ok) assert.equal(result.config.egress, { presets: [], allow: [], passthrough: [], maxResponseMiB: DEFAULT_MAX_RESPONSE_MIB });
  assert.ok(DEFAULT_MAX_RESPONSE_MIB >= 64, "large enough for common package tarballs (pipelock's own 5 MiB is not)");
});

test("maxResponseMiB is a whole number from 1 to 4096", () => {
  assert.equal(problems({ egress: { maxResponseMiB: 0 } }), ["egress.maxResponseMiB: must be at least 1"]);
  assert.equal(problems({ egress: { maxResponseMiB: 5000 } }), ["egress.maxResponseMiB: must be at most 4096"]);
  assert.equal(problems({ egress: { maxResponseMiB: 1.5 } }), ["egress.maxResponseMiB: expected a whole number of MiB"]);
  assert.equal(problems({ egress: { maxResponseMiB: 512 } }), []);
});

test("the TLS trust variables are bottle's: agent.env may not set them", () => {
  for (const name of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"]) {
    const found = problems({ agent: { command: ["sh"], env: { [name]: "/x.pem" } } });
    assert.is(found.length, 1, name);
    assert.match(found[0]!, /trust the bottle's CA/, name);
  }
});

test.run();
