// Issue 15, point 5: pipelock.yaml's `internal` list (pipelock refuses to
// connect to any address in it, whatever name resolved to it) covers every
// address that reaches this host or a private network, checked against
// IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890) rather
// than by example. The list below is written out here, not imported, so a
// change to the module is a change to this test too.
//
// Then the attack, with the real pipelock: an allowlisted name that resolves
// to `::` reached a service listening only on [::1] (Linux connects the
// unspecified address to loopback). pipelock runs in the test world's
// network namespace (lo and a veth to the host, no route beyond: whatever
// it failed to refuse could reach nothing else), in a private mount
// namespace with its own /etc/hosts; the world's test host (198.18.0.0/15)
// is the control that pipelock does forward.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { renderPipelockConfig } from "../src/backends/smolmachines/render/pipelock.js";
import { findOnPath, toolSearchPath } from "../src/lib/host-tools.js";
import { packageRoot } from "../src/lib/package-root.js";
import { inPrivateMounts, makeWorld, type World } from "./acceptance/world.js";
import { FAKES_BIN } from "./helpers/real-tools.js";
import { requireRoot, requireTools, skipSuite } from "./helpers/skip.js";

const EXPECTED_INTERNAL = [
  // IPv4 Special-Purpose Address Registry
  "0.0.0.0/8", // "this" network, RFC 791/1122: 0.0.0.0 connects to this host
  "10.0.0.0/8", // private use, RFC 1918
  "100.64.0.0/10", // shared address space (carrier-grade NAT), RFC 6598
  "127.0.0.0/8", // loopback, RFC 1122
  "169.254.0.0/16", // link local, RFC 3927 (cloud metadata services)
  "172.16.0.0/12", // private use, RFC 1918
  "192.0.0.0/24", // IETF protocol assignments, RFC 6890 (DS-Lite RFC 7335, PCP RFC 7723, TURN RFC 8155, NAT64 discovery RFC 7050)
  "192.0.2.0/24", // documentation TEST-NET-1, RFC 5737
  "192.31.196.0/24", // AS112-v4, RFC 7535
  "192.52.193.0/24", // AMT, RFC 7450
  "192.88.99.0/24", // 6to4 relay anycast, RFC 3068 (deprecated by RFC 7526)
  "192.168.0.0/16", // private use, RFC 1918
  "192.175.48.0/24", // direct delegation AS112, RFC 7534
  "198.51.100.0/24", // documentation TEST-NET-2, RFC 5737
  "203.0.113.0/24", // documentation TEST-NET-3, RFC 5737
  "224.0.0.0/4", // multicast, RFC 5771
  "240.0.0.0/4", // reserved, RFC 1112
  "255.255.255.255/32", // limited broadcast, RFC 8190 / RFC 919
  // IPv6 Special-Purpose Address Registry
  "::/128", // unspecified, RFC 4291: Linux connects it to loopback
  "::1/128", // loopback, RFC 4291
  "::/96", // IPv4-compatible, RFC 4291 2.5.5.1 (deprecated)
  "64:ff9b::/96", // IPv4/IPv6 translation (NAT64), RFC 6052
  "64:ff9b:1::/48", // local-use IPv4/IPv6 translation, RFC 8215
  "100::/64", // discard-only, RFC 6666
  "100:0:0:1::/64", // dummy prefix, RFC 9780
  "2001::/23", // IETF protocol assignments, RFC 2928
  "2001::/32", // Teredo, RFC 4380 (inside 2001::/23)
  "2001:db8::/32", // documentation, RFC 3849
  "2002::/16", // 6to4, RFC 3056
  "2620:4f:8000::/48", // direct delegation AS112, RFC 7534
  "3fff::/20", // documentation, RFC 9637
  "5f00::/16", // segment routing (SRv6) SIDs, RFC 9602
  "fc00::/7", // unique local, RFC 4193
  "fe80::/10", // link-local, RFC 4291
  "fec0::/10", // site-local, RFC 3879 (deprecated)
  "ff00::/8", // multicast, RFC 4291
];

const SUBNET = "192.168.42.0/24";
/** What a rendered pipelock.yaml needs besides the hosts: a secrets file and the bottle's CA (these tests write both where they run pipelock). */
const rest = (dir: string) => ({
  secretsFile: join(dir, "secrets"),
  tls: { caCert: join(dir, "ca.pem"), caKey: join(dir, "ca-key.pem"), passthrough: [], maxResponseBytes: 1 << 20 },
  injectorName: null,
});

test("pipelock's internal list is the special-purpose registries' ranges plus the bottle's subnet", () => {
  const internal: string[] = parse(renderPipelockConfig({ allow: [], subnetCidr: SUBNET, ...rest("/x") })).internal;
  assert.equal([...internal].sort(), [...EXPECTED_INTERNAL, SUBNET].sort());
});

test("left out, on purpose: IPv4-mapped ::ffff:0:0/96 (pipelock matches a mapped address as IPv4, and Go reads that entry as 0.0.0.0/0) and benchmarking 198.18.0.0/15", () => {
  const internal: string[] = parse(renderPipelockConfig({ allow: [], subnetCidr: SUBNET, ...rest("/x") })).internal;
  assert.not.ok(internal.some((range) => range.toLowerCase().startsWith("::ffff:")));
  assert.not.ok(internal.includes("198.18.0.0/15"));
});

/** Lines a child prints; `line(match)` resolves with the first that matches (rejects if it exits first). */
function lines(child: ChildProcess): { all: string[]; line(match: RegExp): Promise<string> } {
  const all: string[] = [];
  const waiting: { match: RegExp; resolve: (line: string) => void }[] = [];
  let exited = false;
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      all.push(line);
      for (const waiter of waiting.filter((w) => w.match.test(line))) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const gone = new Promise<never>((_, reject) =>
    child.once("exit", (code) => {
      exited = true;
      reject(new Error(`exited (${code}) first; output:\n${all.join("\n")}`));
    }),
  );
  gone.catch(() => undefined);
  return {
    all,
    line: (match) => {
      const found = all.find((line) => match.test(line));
      if (found !== undefined) return Promise.resolve(found);
      if (exited) return gone;
      return Promise.race([new Promise<string>((resolve) => waiting.push({ match, resolve })), gone]);
    },
  };
}

// In the world's namespace: a server on [::1] only, printing `ready <port>` and a line per connection.
const LOOPBACK_SERVICE = `require("node:net").createServer((s) => { console.log("reached"); s.end("HTTP/1.1 200 OK\\r\\nContent-Length: 7\\r\\nConnection: close\\r\\n\\r\\nreached"); }).listen(0, "::1", function () { console.log("ready " + this.address().port); });`;
// The same namespace: waits for pipelock's port to accept (a connect that succeeds), then says so.
const PORT_WAIT = `const [host, port] = process.argv.slice(1); const net = require("node:net"); (function again(delay) { const s = net.connect({ host, port: Number(port) }); s.on("connect", () => { console.log("accepting"); process.exit(0); }); s.on("error", () => setTimeout(again, delay, Math.min(delay * 2, 200))); })(10);`;

/** The status line's code of what pipelock answers to `request`. */
function ask(proxy: { host: string; port: number }, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy);
    let data = "";
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      if (status !== undefined && data.includes("\r\n\r\n")) {
        socket.destroy();
        resolve(Number(status));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0)));
  });
}

const get = (host: string, port: number): string => `GET http://${host}:${port}/ HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`;
const tunnel = (host: string, port: number): string => `CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`;

// A real pipelock: PATH and .tools/bin as bottle looks, never the contract fake.
const pipelock = findOnPath("pipelock", toolSearchPath((process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== FAKES_BIN).join(delimiter)));
const missing = requireRoot("a network namespace for the test host, and a private mount namespace for pipelock's /etc/hosts") ?? requireTools(["ip", "unshare"]);

if (missing) {
  skipSuite("pipelock-ssrf-ranges (live)", missing);
} else if (pipelock === null) {
  skipSuite("pipelock-ssrf-ranges (live)", "no real pipelock on PATH or in .tools/bin (npm run tools; the Go module proxy may refuse it)");
} else {
  let world: World | undefined;
  const children: ChildProcess[] = [];
  let service: { port: number; reached: () => number } | undefined;
  const PROXY_PORT = 3128;
  let proxy = { host: "", port: PROXY_PORT };
  const dir = mkdtempSync("/tmp/bt-ssrf-");
  const inWorld = (command: readonly string[]): ChildProcess => {
    const child = spawn("ip", ["netns", "exec", world!.namespace, ...command], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin", HOME: dir } });
    children.push(child);
    return child;
  };

  // Names pipelock may visit, each resolving (in its own /etc/hosts) to an address that reaches this host or another network.
  const INTERNAL_NAMES: Record<string, string> = {
    "unspecified.test": "::",
    "compatible.test": "::127.0.0.1",
    "nat64.test": "64:ff9b::7f00:1",
    "sixtofour.test": "2002:7f00:1::1",
    "teredo.test": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "mapped.test": "::ffff:127.0.0.1",
    "reserved.test": "240.0.0.1",
  };

  test.before(async () => {
    world = await makeWorld(dir, ["control.test"]);
    proxy = { host: world.address, port: PROXY_PORT };
    const serviceOutput = lines(inWorld([process.execPath, "-e", LOOPBACK_SERVICE]));
    const port = Number((await serviceOutput.line(/^ready \d+$/)).split(" ")[1]);
    service = { port, reached: () => serviceOutput.all.filter((line) => line === "reached").length };
    appendFileSync(world.hostsFile, Object.entries(INTERNAL_NAMES).map(([name, address]) => `${address} ${name}\n`).join(""));
    const config = join(dir, "pipelock.yaml");
    writeFileSync(join(dir, "secrets"), "", { mode: 0o600 });
    for (const file of ["ca.pem", "ca-key.pem"]) {
      copyFileSync(join(packageRoot(), "test", "fixtures", "fakes", "pipelock", "test-ca", file), join(dir, file));
      chmodSync(join(dir, file), 0o600);
    }
    writeFileSync(config, renderPipelockConfig({ allow: ["control.test", ...Object.keys(INTERNAL_NAMES)], subnetCidr: SUBNET, ...rest(dir) }));
    const pipelockRun = inWorld(inPrivateMounts(world, [pipelock, "run", "--config", config, "--listen", `${proxy.host}:${PROXY_PORT}`]));
    let stderr = "";
    pipelockRun.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    pipelockRun.stdout!.resume();
    const ready = lines(inWorld([process.execPath, "-e", PORT_WAIT, proxy.host, String(PROXY_PORT)]));
    const failed = new Promise<never>((_, reject) => pipelockRun.once("exit", (code) => reject(new Error(`pipelock exited (${code}):\n${stderr}`))));
    await Promise.race([ready.line(/^accepting$/), failed]);
  });

  test.after(async () => {
    for (const child of children) child.kill("SIGKILL");
    world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("control: pipelock forwards an allowlisted name on the test host's network", async () => {
    assert.is(await ask(proxy, get("control.test", 80)), 200);
  });

  test("a name resolving to `::` is refused, by plain HTTP and by CONNECT; the [::1] service sees nothing", async () => {
    assert.is(await ask(proxy, get("unspecified.test", service!.port)), 403);
    assert.is(await ask(proxy, tunnel("unspecified.test", service!.port)), 403);
    assert.is(service!.reached(), 0, "pipelock connected to the service on [::1]");
  });

  test("names resolving into IPv4-compatible, NAT64, 6to4, Teredo, IPv4-mapped and reserved space are refused as internal (403), not tried (502)", async () => {
    for (const name of Object.keys(INTERNAL_NAMES)) {
      assert.is(await ask(proxy, get(name, service!.port)), 403, `${name} (${INTERNAL_NAMES[name]}), plain HTTP`);
      assert.is(await ask(proxy, tunnel(name, service!.port)), 403, `${name}, CONNECT`);
    }
    assert.is(service!.reached(), 0);
  });
}

test.run();
