// Edges of the jail's host side (issue 20: mutants `npm run mutate` found
// unkilled in jail/): what the jail's file system binds when bottle has no
// node_modules and where Node's install is not an install; the exact limits
// of socket paths and ports; a relay to a sidecar on a unix socket (the git
// gate's); a port that is not one; and gvproxy's socket when it belongs to
// another user.
import { chownSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jailFileSystem, jailLayout, linkGvproxySocket, nodeInstallDir, prepareJailDir, relaySocketPath, startHostRelays } from "../src/backends/smolmachines/jail/index.js";
import { isPort, MAX_SOCKET_PATH_BYTES } from "../src/backends/smolmachines/jail/jail-layout.js";
import { parseRelayInsideArgs } from "../src/backends/smolmachines/jail/relay-inside-args.js";
import { tempDir } from "./helpers/tmp.js";

test("without node_modules, the jail binds bottle's dist and package.json only", () => {
  const root = join(tempDir("bje-"), "pkg");
  mkdirSync(join(root, "dist"), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}");
  const fs = jailFileSystem({ nodePath: process.execPath, files: [], root, system: [{ kind: "dir", path: "/usr" }] });
  const node = realpathSync(process.execPath);
  const expected = [join(root, "dist"), join(root, "package.json")].map((p) => realpathSync(p));
  if (!node.startsWith("/usr/")) expected.push(nodeInstallDir(node));
  assert.equal(fs.readOnly, expected.sort());
});

test("nodeInstallDir: a prefix counts only when the binary is in its bin/ and it has include/node", () => {
  const dir = tempDir("bje-");
  // include/node next to a directory that is not bin/: not an install layout.
  mkdirSync(join(dir, "a", "include", "node"), { recursive: true });
  mkdirSync(join(dir, "a", "node-dir"), { recursive: true });
  assert.is(nodeInstallDir(join(dir, "a", "node-dir", "node")), join(dir, "a", "node-dir", "node"));
  // A home with bin/node and an include/ of other things is not an install either.
  mkdirSync(join(dir, "home", "bin"), { recursive: true });
  mkdirSync(join(dir, "home", "include", "openssl"), { recursive: true });
  assert.is(nodeInstallDir(join(dir, "home", "bin", "node")), join(dir, "home", "bin", "node"));
});

test("a relay socket path of exactly 107 bytes is allowed, 108 is refused; ports are 1 to 65535", () => {
  assert.is(MAX_SOCKET_PATH_BYTES, 107);
  const suffix = "/jail/relays/4101.sock";
  const fits = `/${"r".repeat(107 - suffix.length - 1)}`;
  assert.is(Buffer.byteLength(relaySocketPath(fits, 4101)), 107);
  assert.throws(() => relaySocketPath(`${fits}x`, 4101), /108 bytes, over the 107-byte limit/);
  for (const [port, ok] of [[1, true], [65535, true], [0, false], [65536, false], [-1, false], [80.5, false]] as const) assert.is(isPort(port), ok, String(port));
});

test("relay-inside's --port takes decimal digits only", () => {
  const parse = (port: string) => parseRelayInsideArgs(["--run", "/r", "--port", port, "--", "/bin/true"]);
  assert.ok(parse("65535").ok);
  for (const bad of ["8e1", "0x50", " 80", "80 ", "+80", "65536", "0"]) assert.not.ok(parse(bad).ok, `--port ${JSON.stringify(bad)}`);
});

test("host relays refuse a port that is not one, before making any socket", async () => {
  const runDir = join(tempDir("bje-"), "run");
  mkdirSync(runDir, { mode: 0o700 });
  prepareJailDir(runDir);
  for (const port of [0, 65536]) {
    const error = await startHostRelays({ runDir, ports: [port] }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    assert.match(error?.message ?? "started", /is not a port \(1-65535\)/);
  }
});

function listenUnix(path: string, reply: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("end", () => socket.end(`${reply}:${data}`));
    });
    server.listen(path, () => resolve(server));
  });
}

test("a relay whose sidecar listens on a unix socket carries connections there, not to the loopback port", async () => {
  const runDir = join(tempDir("bje-"), "run");
  mkdirSync(runDir, { mode: 0o700 });
  prepareJailDir(runDir);
  const target = join(tempDir("bje-"), "gate.sock");
  const server = await listenUnix(target, "gate");
  // Nothing listens on the loopback port: only the unix target can answer.
  const relays = await startHostRelays({ runDir, ports: [1], unixTargets: { 1: target } });
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const client = connect({ path: relays.sockets[0]!, allowHalfOpen: true });
      let data = "";
      client.on("data", (chunk) => (data += chunk.toString()));
      client.on("end", () => resolve(data));
      client.on("error", reject);
      client.end("hello");
    });
    assert.is(reply, "gate:hello");
  } finally {
    await relays.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

(process.getuid?.() === 0 ? test : test.skip)("gvproxy's socket owned by another user is not linked for the machine", async () => {
  const runDir = join(tempDir("bje-"), "run");
  mkdirSync(runDir, { mode: 0o700 });
  const layout = jailLayout(runDir);
  prepareJailDir(runDir);
  const server = await listenUnix(layout.gvproxySocket, "other");
  try {
    chownSync(layout.gvproxySocket, 65534, 65534);
    assert.throws(() => linkGvproxySocket(layout, { kind: "userns" }), /is not a unix socket of the jail's user/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test.run();
