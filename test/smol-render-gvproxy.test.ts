import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { renderGvproxyConfig } from "../src/backends/smolmachines/render/gvproxy.js";
import { subnetForSlug } from "../src/backends/smolmachines/subnet.js";

// gvproxy's GvproxyConfig struct (gvproxy.md). yaml.v3 ignores unknown keys,
// so a key outside these sets would be a silent no-op.
const TOP_KEYS = [
  "listen", "log-level", "log-file", "pid-file", "services", "notification",
  "ec2-metadata-access", "interfaces", "forwards", "stack",
];
const STACK_KEYS = [
  "mtu", "subnet", "gatewayIP", "deviceIP", "hostIP", "gatewayMacAddress", "dns",
  "dnsSearchDomains", "forwards", "nat", "gatewayVirtualIPs", "dhcpStaticLeases",
];
const ZONE_KEYS = ["name", "records", "defaultIP"];
const RECORD_KEYS = ["name", "ip", "regexp"];

const RUN_DIR = "/run/user/1000/bottle/demo";
const subnet = subnetForSlug("demo"); // 192.168.43.0/24

function render(): Record<string, any> {
  return parse(renderGvproxyConfig({ subnet, runDir: RUN_DIR }));
}

function assertKeysWithin(object: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(object)) {
    assert.ok(allowed.includes(key), `${where}: gvproxy has no key ${JSON.stringify(key)}`);
  }
}

test("every key is one gvproxy's config struct defines", () => {
  const config = render();
  assertKeysWithin(config, TOP_KEYS, "top level");
  assertKeysWithin(config.stack, STACK_KEYS, "stack");
  for (const zone of config.stack.dns) {
    assertKeysWithin(zone, ZONE_KEYS, "dns zone");
    for (const record of zone.records ?? []) assertKeysWithin(record, RECORD_KEYS, "dns record");
  }
});

test("socket, pid file and log file all live in the run dir's jail/, the only directory the jail can write", () => {
  const config = render();
  assert.equal(config.listen, [`unix://${RUN_DIR}/jail/gvproxy.sock`]);
  assert.is(config["pid-file"], `${RUN_DIR}/jail/gvproxy.pid`);
  assert.is(config["log-file"], `${RUN_DIR}/jail/gvproxy.log`);
});

test("the stack uses the slug's subnet with gateway .1, device .2, host .254", () => {
  const { stack } = render();
  assert.is(stack.subnet, "192.168.43.0/24");
  assert.is(stack.gatewayIP, "192.168.43.1");
  assert.is(stack.deviceIP, "192.168.43.2");
  assert.is(stack.hostIP, "192.168.43.254");
});

test("DNS answers proxy.internal with the gateway, then a catch-all empty zone", () => {
  const { stack } = render();
  assert.equal(stack.dns, [
    { name: "internal.", records: [{ name: "proxy", ip: "192.168.43.1" }] },
    { name: "" },
  ]);
  assert.is.not(stack.dns[1].name, ".");
});

test("only the gateway is NATed to loopback and it is the only virtual IP", () => {
  const { stack } = render();
  assert.equal(stack.nat, { "192.168.43.1": "127.0.0.1" });
  assert.equal(stack.gatewayVirtualIPs, ["192.168.43.1"]);
});

test("there is no forwards key and no interfaces anywhere", () => {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value !== null && typeof value === "object") {
      for (const [key, v] of Object.entries(value)) {
        if (key === "forwards" || key === "interfaces") found.push(`${path}.${key}`);
        walk(v, `${path}.${key}`);
      }
    }
  };
  walk(render(), "");
  assert.equal(found, []);
});

test("the same input renders the same bytes", () => {
  assert.is(
    renderGvproxyConfig({ subnet, runDir: RUN_DIR }),
    renderGvproxyConfig({ subnet: subnetForSlug("demo"), runDir: RUN_DIR }),
  );
});

test.run();
