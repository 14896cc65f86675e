// egress.allow entries against a literal table (issue 20: mutants `npm run
// mutate` found unkilled in egress-host.ts; the slow config-validation suite
// held the only port/path cases). Each entry is refused for the reason
// named, or allowed. The public suffixes come from the Public Suffix List
// (publicsuffix.org), which tldts ships.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { egressHostProblem } from "../src/config/egress-host.js";

const REFUSED: Record<string, RegExp> = {
  // Not a bare host name: a scheme, port, path, query, user, space or trailing dot.
  "https://example.com": /is not a host name/,
  "example.com:8080": /is not a host name/,
  "example.com/path": /is not a host name/,
  "example.com?q=1": /is not a host name/,
  "user@example.com": /is not a host name/,
  "example .com": /is not a host name/,
  "example.com.": /is not a host name/,
  "-example.com": /is not a host name/,
  "example-.com": /is not a host name/,
  "*example.com": /is not a host name/,
  "a.*.example.com": /is not a host name/,
  "a.*.com": /is not a host name/,
  "example": /is not a host name/,
  // IP literals, in every notation a URL parser or pipelock decodes.
  "127.0.0.1": /is an IP address/,
  "[::1]": /is an IP address/,
  "::ffff:127.0.0.1": /is an IP address/,
  "2130706433": /is an IP address/,
  "0x7f.1": /is an IP address/,
  "example.0x10": /is an IP address/,
  "example.123": /is an IP address/,
  // This machine.
  "db.localhost": /is under `localhost`/,
  "LOCALHOST.localhost": /is under `localhost`/,
  // Wildcards over names of many owners.
  "*.com": /spans the public suffix `com`/,
  "*.COM": /spans the public suffix `com`/,
  "*.co.uk": /spans the public suffix `co\.uk`/,
  "*.github.io": /spans the public suffix `github\.io`/,
  "*.amazonaws.com": /spans public suffixes registered under `amazonaws\.com`/,
};

const ALLOWED = ["example.com", "Example.COM", "a.io", "x.example.co.uk", "*.example.com", "*.example.co.uk", "api-1.example.com", "github.io", "me.github.io", "*.me.github.io", "xn--bcher-kva.example", "localhost.example.com", "example.c0m"];

test("each refused entry is refused for its reason", () => {
  for (const [entry, reason] of Object.entries(REFUSED)) {
    const problem = egressHostProblem(entry);
    assert.ok(problem, `${entry} was allowed`);
    assert.match(problem!, reason, `${entry}: ${problem}`);
  }
});

test("ordinary hosts and wildcards under a registrable domain are allowed", () => {
  for (const entry of ALLOWED) assert.is(egressHostProblem(entry), undefined, entry);
});

test.run();
