// The acceptance suite can fail: with gvproxy out of its jail
// (--unsafe-no-jail), exactly the attempts the jail stops get through.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { runAcceptance } from "./acceptance/harness.js";

const outcome = await runAcceptance({ unsafeNoJail: true });
if ("skipped" in outcome) {
  skipSuite("acceptance-catches-unjailed-gvproxy", outcome.skipped);
} else {
  const failed = (id: string) => outcome.rows.find((r) => r.id === id)?.pass === false;

  test("direct TCP and UDP reach the test host", () => {
    assert.ok(failed("direct-tcp") && failed("direct-udp"), JSON.stringify(outcome.rows, null, 2));
  });

  test("the gateway's NAT reaches a host loopback port", () => {
    assert.ok(failed("gateway-nat-loopback"));
  });

  test("a port exposed through gvproxy's gateway API appears on the host", () => {
    assert.ok(failed("gateway-api-expose"));
  });

  test("crafted DNS queries reach a resolver outside", () => {
    assert.ok(failed("dns-exfil-non-a") && failed("dns-direct-resolver"));
  });

  test("exactly those six rows fail", () => {
    assert.equal(outcome.rows.filter((r) => !r.pass).map((r) => r.id).sort(), ["direct-tcp", "direct-udp", "dns-direct-resolver", "dns-exfil-non-a", "gateway-api-expose", "gateway-nat-loopback"]);
  });

  test("what pipelock and the git gate decide does not depend on the jail", () => {
    for (const id of ["allowed-host", "proxy-not-allowlisted", "proxy-old-default-host", "proxy-host-loopback", "dlp-path", "dlp-query", "dlp-header", "dlp-body", "git-push-secret", "live-allowlist-edit"]) {
      assert.ok(outcome.rows.find((r) => r.id === id)?.pass, id);
    }
  });

  test.run();
}
