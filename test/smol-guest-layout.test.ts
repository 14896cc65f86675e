import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  GUEST_DIR,
  GUEST_GVFORWARDER,
  GUEST_NET_UP,
  GUEST_SOCKET,
  PROXY_HOST,
  machineName,
  proxyUrl,
} from "../src/backends/smolmachines/guest-layout.js";

test("guest paths live under the read-only /opt/bottle mount", () => {
  assert.is(GUEST_DIR, "/opt/bottle");
  assert.is(GUEST_NET_UP, "/opt/bottle/net-up.sh");
  assert.is(GUEST_GVFORWARDER, "/opt/bottle/gvforwarder");
  assert.is(GUEST_SOCKET, "/run/bottle/gvproxy.sock");
});

test("the machine is named after the slug and the proxy URL after proxy.internal", () => {
  assert.is(machineName("demo"), "bottle-demo");
  assert.is(PROXY_HOST, "proxy.internal");
  assert.is(proxyUrl(41234), "http://proxy.internal:41234");
});

test.run();
