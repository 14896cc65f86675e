// egress.allow refuses what would let the guest reach the host, the LAN or
// whole public suffixes through pipelock (issue 9, point 9): IP literals in
// every notation, localhost and names under it, wildcards spanning a public
// suffix (tldts's list, private section included).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { validateConfig } from "../src/config/validate.js";

function problemsFor(allow: string[]): { path: string; message: string }[] {
  const result = validateConfig({ name: "demo", image: "a", agent: { command: ["sh"] }, egress: { allow } }, "/");
  return result.ok ? [] : result.problems;
}

function refusal(entry: string): string {
  const problems = problemsFor(["registry.npmjs.org", entry]);
  assert.is(problems.length, 1, `${entry} should be refused once, got ${JSON.stringify(problems)}`);
  assert.is(problems[0]!.path, "egress.allow[1]", entry);
  return problems[0]!.message;
}

test("IP literals are refused in every notation a URL parser or pipelock decodes", () => {
  for (const entry of ["127.0.0.1", "10.0.0.1", "8.8.8.8", "::1", "[::1]", "[fe80::1]", "fd00::1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "127.1", "1.2.3.0x4"]) {
    assert.match(refusal(entry), /IP address/, entry);
  }
});

test("localhost and every name under it are refused", () => {
  for (const entry of ["localhost", "LOCALHOST", "*.localhost", "app.localhost", "a.b.localhost"]) {
    const message = refusal(entry);
    assert.ok(/localhost/.test(message) || /host name/.test(message), `${entry}: ${message}`);
  }
  assert.match(refusal("app.localhost"), /resolves to this machine/);
});

test("wildcards directly under a public suffix are refused, naming the suffix", () => {
  assert.match(refusal("*.co.uk"), /public suffix `co\.uk`/);
  assert.match(refusal("*.github.io"), /public suffix `github\.io`/);
  assert.match(refusal("*.s3.amazonaws.com"), /public suffix `s3\.amazonaws\.com`/);
  assert.match(refusal("*.amazonaws.com"), /public suffixes registered under `amazonaws\.com`/);
  assert.match(refusal("*.com"), /public suffix `com`/);
  assert.match(refusal("*.x.compute.amazonaws.com"), /public suffix/);
});

test("ordinary hosts and wildcards under a registrable domain pass, lower-cased", () => {
  const result = validateConfig(
    { name: "demo", image: "a", agent: { command: ["sh"] }, egress: { allow: ["Registry.NPMJS.org", "*.example.com", "*.example.co.uk", "me.github.io", "*.me.github.io", "co.uk", "github.com", "*.github.com", "x1.example.com"] } },
    "/",
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  if (result.ok) assert.equal(result.config.egress.allow.slice(0, 2), ["registry.npmjs.org", "*.example.com"]);
});

test("each problem names its own index", () => {
  const problems = problemsFor(["ok.example.com", "127.0.0.1", "*.co.uk", "localhost"]);
  assert.equal(problems.map((p) => p.path), ["egress.allow[1]", "egress.allow[2]", "egress.allow[3]"]);
});

test.run();
