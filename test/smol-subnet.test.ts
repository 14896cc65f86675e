import { test } from "uvu";
import * as assert from "uvu/assert";
import { octetForSlug, subnetForSlug } from "../src/backends/smolmachines/subnet.js";

// Computed with Python: (hashlib.sha256(slug.encode()).digest()[0] % 254) + 1
const VECTORS: [slug: string, octet: number][] = [
  ["demo", 43],
  ["bottle", 126],
  ["my-agent", 24],
  ["a", 203],
  ["claude-bottle", 225],
];

test("the octet is the first SHA-256 byte of the slug mod 254, plus 1", () => {
  for (const [slug, octet] of VECTORS) assert.is(octetForSlug(slug), octet, slug);
});

test("a slug whose formula lands on 17 gets 18 (docker's 172.17 habit)", () => {
  // sha256("slug-89")[0] == 16, so the formula gives 17.
  assert.is(octetForSlug("slug-89"), 18);
  assert.is(subnetForSlug("slug-89").cidr, "192.168.18.0/24");
});

test("a first byte of 255 wraps to octet 2, never 0 or 255", () => {
  // sha256("slug-7")[0] == 255
  assert.is(octetForSlug("slug-7"), 2);
});

test("the subnet names the /24, gateway .1, device .2 and host .254", () => {
  assert.equal(subnetForSlug("demo"), {
    octet: 43,
    cidr: "192.168.43.0/24",
    gateway: "192.168.43.1",
    device: "192.168.43.2",
    host: "192.168.43.254",
  });
});

test("the same slug always yields the same subnet", () => {
  assert.equal(subnetForSlug("my-agent"), subnetForSlug("my-agent"));
  assert.is.not(subnetForSlug("my-agent").octet, subnetForSlug("demo").octet);
});

test("an octet override replaces the derived octet, even 17", () => {
  assert.is(subnetForSlug("demo", 200).gateway, "192.168.200.1");
  assert.is(subnetForSlug("demo", 17).cidr, "192.168.17.0/24");
  assert.is(subnetForSlug("demo", null).octet, 43);
});

test("an override outside 1..254 is refused", () => {
  for (const bad of [0, 255, -1, 1.5, Number.NaN]) {
    assert.throws(() => subnetForSlug("demo", bad), /1 to 254/, String(bad));
  }
});

test.run();
