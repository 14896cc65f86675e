// The relays on their own, on the host (no jail): host relays' sockets,
// stale-socket handling and clean-up, and relay-inside's start-up rules and
// exit codes.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, statSync, watch } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jailScripts, prepareJailDir, relaySocketPath, startHostRelays, type HostRelays } from "../src/backends/smolmachines/jail/index.js";
import { withTimeout } from "./helpers/process.js";

const SAFETY_MS = 10_000;

const within = <T>(promise: Promise<T>, what: string): Promise<T> => withTimeout(promise, what, SAFETY_MS);

/** A loopback server that answers `<name>:<what it read>` after the client half-closes. */
async function echoServer(name: string): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () => socket.end(`${name}:${data}`));
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

function closeServer(server: Server, sockets: Set<Socket> = new Set()): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bind one, note it, release it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

/** Writes `message`, half-closes, and resolves with everything read until the end. */
function exchangeOverUnix(path: string, message: string): Promise<{ reply: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ path, allowHalfOpen: true });
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.end(message));
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("close", () => resolve({ reply }));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve({ reply, error: error.code }));
  });
}

/** A sidecar that says "bye" and half-closes at once, then keeps reading: `received` is what it read after, once the client ends. */
async function byeFirstServer(listen: { path: string } | { host: string; port: number }): Promise<{ server: Server; port: number; received: Promise<string> }> {
  let resolveReceived: (data: string) => void = () => undefined;
  const received = new Promise<string>((resolve) => (resolveReceived = resolve));
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => resolveReceived(data));
    socket.end("bye");
  });
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : 0, received };
}

/** Reads until the server's end, then sends `late` and ends: resolves with what was read first. */
function replyAfterServerEnds(socket: Socket, late: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let read = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (read += chunk));
    socket.on("end", () => {
      socket.end(late);
      resolve(read);
    });
    socket.on("error", reject);
  });
}

/** Resolves once `path` exists, watching its directory instead of polling. */
function fileAppears(path: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const watcher = watch(dirname(path), () => {
        if (existsSync(path)) {
          watcher.close();
          resolve();
        }
      });
      if (existsSync(path)) {
        watcher.close();
        resolve();
      }
    }),
    `${basename(path)} to appear`,
  );
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

let dir = "";
let runDir = "";
const opened: HostRelays[] = [];

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), "bjr-"));
  runDir = join(dir, "run");
  await mkdir(runDir, { mode: 0o700 });
  prepareJailDir(runDir); // as the launch does before it starts the relays
});

test.after.each(async () => {
  for (const relays of opened.splice(0)) await relays.close();
  await rm(dir, { recursive: true, force: true });
});

async function relaysFor(ports: number[]): Promise<HostRelays> {
  const relays = await startHostRelays({ runDir, ports });
  opened.push(relays);
  return relays;
}

// --- host relays ---------------------------------------------------------------

test("host relays listen on <run>/jail/relays/<port>.sock, private to the user", async () => {
  const [a, b] = await Promise.all([echoServer("A"), echoServer("B")]);
  const relays = await relaysFor([a.port, b.port]);
  assert.equal(relays.sockets, [relaySocketPath(runDir, a.port), relaySocketPath(runDir, b.port)]);
  assert.is(statSync(join(runDir, "jail", "relays")).mode & 0o777, 0o700);
  for (const path of relays.sockets) {
    assert.ok(statSync(path).isSocket(), path);
    assert.is(statSync(path).mode & 0o777, 0o600, path);
  }
  await Promise.all([closeServer(a.server), closeServer(b.server)]);
});

test("a host relay carries each connection to its own loopback port, both ways, with half-close", async () => {
  const [a, b] = await Promise.all([echoServer("A"), echoServer("B")]);
  const relays = await relaysFor([a.port, b.port]);
  const big = "x".repeat(1 << 20);
  assert.equal(await exchangeOverUnix(relays.sockets[0]!, "hello"), { reply: "A:hello" });
  assert.equal(await exchangeOverUnix(relays.sockets[1]!, big), { reply: `B:${big}` });
  await Promise.all([closeServer(a.server), closeServer(b.server)]);
});

test("a host relay keeps carrying the client's bytes after the sidecar half-closes first (loopback and unix targets)", async () => {
  const tcp = await byeFirstServer({ host: "127.0.0.1", port: 0 });
  const unixPath = join(dir, "gate.sock");
  const unix = await byeFirstServer({ path: unixPath });
  const unixPort = await unusedPort();
  const relays = await startHostRelays({ runDir, ports: [tcp.port, unixPort], unixTargets: { [unixPort]: unixPath } });
  opened.push(relays);
  try {
    for (const [index, sidecar] of [tcp, unix].entries()) {
      const client = connect({ path: relays.sockets[index]!, allowHalfOpen: true });
      assert.is(await within(replyAfterServerEnds(client, "late words"), "the sidecar's end"), "bye");
      assert.is(await within(sidecar.received, "the sidecar to read the client's end"), "late words");
    }
  } finally {
    await Promise.all([closeServer(tcp.server), closeServer(unix.server)]);
  }
});

test("a host relay whose sidecar is down closes the client's connection", async () => {
  const relays = await relaysFor([await unusedPort()]);
  const result = await within(exchangeOverUnix(relays.sockets[0]!, "hello"), "the relay to drop the client");
  assert.is(result.reply, "");
});

test("a stale socket file at a relay path is replaced", async () => {
  const a = await echoServer("A");
  const path = relaySocketPath(runDir, a.port);
  await mkdir(dirname(path), { mode: 0o700 });
  // A process that dies by SIGKILL leaves its unix socket file behind.
  const owner = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(path)})`], { stdio: "ignore" });
  await fileAppears(path);
  const gone = exited(owner);
  owner.kill("SIGKILL");
  await gone;
  assert.is((await exchangeOverUnix(path, "x")).error, "ECONNREFUSED", "the socket file is stale");

  const relays = await relaysFor([a.port]);
  assert.equal(await exchangeOverUnix(relays.sockets[0]!, "again"), { reply: "A:again" });
  await closeServer(a.server);
});

test("host relays refuse to replace something that is not a socket, and leave nothing behind", async () => {
  const [a, b] = await Promise.all([echoServer("A"), echoServer("B")]);
  const blocked = relaySocketPath(runDir, b.port);
  await mkdir(dirname(blocked), { mode: 0o700 });
  await writeFile(blocked, "not a socket");
  const error = await startHostRelays({ runDir, ports: [a.port, b.port] }).then(
    () => undefined,
    (thrown: Error) => thrown,
  );
  assert.match(error?.message ?? "(it started)", /is not a socket; refusing to replace it/);
  assert.not.ok(existsSync(relaySocketPath(runDir, a.port)), "the first relay's socket was cleaned up");
  assert.ok(statSync(blocked).isFile(), "the file that was in the way is untouched");
  await Promise.all([closeServer(a.server), closeServer(b.server)]);
});

test("host relays forget each finished connection: after 20 exchanges they hold none", async () => {
  const a = await echoServer("A");
  const relays = await relaysFor([a.port]);
  for (let i = 0; i < 20; i++) assert.equal(await exchangeOverUnix(relays.sockets[0]!, `n${i}`), { reply: `A:n${i}` });
  // Each side's close event comes a moment after the client saw its reply: wait for the count, not a time.
  const deadline = Date.now() + SAFETY_MS;
  while (relays.liveConnections !== 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.is(relays.liveConnections, 0);
  await closeServer(a.server, a.sockets);
});

test("close() drops live connections and removes the socket files", async () => {
  const a = await echoServer("A");
  const relays = await startHostRelays({ runDir, ports: [a.port] });
  const client = connect({ path: relays.sockets[0]!, allowHalfOpen: true });
  const clientClosed = new Promise<void>((resolve) => client.on("close", () => resolve()));
  client.on("error", () => undefined);
  const reachedSidecar = new Promise<void>((resolve) => a.server.once("connection", () => resolve()));
  client.write("held open");
  await within(reachedSidecar, "the held connection to reach the sidecar");

  await relays.close();
  await within(clientClosed, "close() to drop the client");
  for (const path of relays.sockets) assert.not.ok(existsSync(path), `${path} is removed`);
  await closeServer(a.server, a.sockets);
});

// --- relay-inside, run on the host ----------------------------------------------

const { relayScript } = jailScripts();

function runRelayInside(args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [relayScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  return { child, stderr: () => stderr };
}

test("relay-inside exits 1 without starting the command when a port cannot be bound", async () => {
  const busy = await echoServer("busy");
  const marker = join(dir, "started");
  const { child, stderr } = runRelayInside([
    "--run",
    runDir,
    "--port",
    String(busy.port),
    "--",
    process.execPath,
    "-e",
    `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "")`,
  ]);
  const { code } = await within(exited(child), "relay-inside to exit");
  assert.is(code, 1);
  assert.match(stderr(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy.port} \\(EADDRINUSE\\); not starting`));
  assert.not.ok(existsSync(marker), "the command never ran");
  await closeServer(busy.server);
});

test("relay-inside exits 2 with its usage on a bad command line", async () => {
  const { child, stderr } = runRelayInside(["--run", runDir, "--", "true"]);
  const { code } = await within(exited(child), "relay-inside to exit");
  assert.is(code, 2);
  assert.match(stderr(), /at least one --port is required\nusage: relay-inside\.js/);
});

test("relay-inside exits 128+signal when the command is killed by a signal", async () => {
  const { child } = runRelayInside([
    "--run",
    runDir,
    "--port",
    String(await unusedPort()),
    "--",
    process.execPath,
    "-e",
    'process.kill(process.pid, "SIGKILL")',
  ]);
  const { code } = await within(exited(child), "relay-inside to exit");
  assert.is(code, 128 + 9);
});

test("relay-inside exits 128+15 when the command is killed by SIGTERM (not 128+9)", async () => {
  const { child } = runRelayInside(["--run", runDir, "--port", String(await unusedPort()), "--", process.execPath, "-e", 'process.kill(process.pid, "SIGTERM")']);
  const { code } = await within(exited(child), "relay-inside to exit");
  assert.is(code, 143);
});

/** relay-inside on `port`, its command a node that prints "ready" and waits; resolves once it is ready (its listeners are up first). */
async function readyRelayInside(port: number): Promise<ChildProcess> {
  const { child } = runRelayInside(["--run", runDir, "--port", String(port), "--", process.execPath, "-e", 'console.log("ready"); setInterval(() => {}, 60000);']);
  const ready = new Promise<void>((resolve) => {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => chunk.includes("ready") && resolve());
  });
  await within(ready, "relay-inside's command to start");
  return child;
}

test("relay-inside listens on 127.0.0.1 alone, and carries the jail side's bytes after the relay socket half-closes first", async () => {
  const port = await unusedPort();
  const socketPath = relaySocketPath(runDir, port);
  await mkdir(dirname(socketPath), { mode: 0o700 });
  const relay = await byeFirstServer({ path: socketPath });
  const child = await readyRelayInside(port);
  try {
    const elsewhere = await new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.2", port });
      socket.on("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    assert.is(elsewhere, "ECONNREFUSED", "only 127.0.0.1 is listened on");
    const client = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    assert.is(await within(replyAfterServerEnds(client, "late words"), "the relay socket's end"), "bye");
    assert.is(await within(relay.received, "the relay socket to read the client's end"), "late words");
  } finally {
    // SIGTERM, which relay-inside hands to its command: SIGKILL would leave the command running.
    const exit = exited(child);
    child.kill("SIGTERM");
    await within(exit, "relay-inside to exit");
    await closeServer(relay.server);
  }
});

test("relay-inside forwards SIGTERM to the command and exits with its code", async () => {
  const { child } = runRelayInside([
    "--run",
    runDir,
    "--port",
    String(await unusedPort()),
    "--",
    process.execPath,
    "-e",
    'process.on("SIGTERM", () => process.exit(42)); console.log("ready"); setInterval(() => {}, 60000);',
  ]);
  const ready = new Promise<void>((resolve) => {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => chunk.includes("ready") && resolve());
  });
  const exit = exited(child);
  await within(ready, "the command to start");
  child.kill("SIGTERM");
  assert.is((await within(exit, "relay-inside to exit")).code, 42);
});

test("relay-inside ends, exit 1, when the launcher's end of its --lifeline closes", async () => {
  const child = spawn(
    process.execPath,
    [relayScript, "--run", runDir, "--port", String(await unusedPort()), "--lifeline", "3", "--", process.execPath, "-e", 'console.log("ready"); process.stdin.on("end", () => process.exit(0)); process.stdin.resume();'],
    { stdio: ["pipe", "pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const ready = new Promise<void>((resolve) => {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => chunk.includes("ready") && resolve());
  });
  const exit = exited(child);
  let code: number | null;
  try {
    await within(ready, "the command to start");
    (child.stdio[3] as Socket).destroy();
    ({ code } = await within(exit, "relay-inside to end with its lifeline"));
  } finally {
    child.kill("SIGTERM"); // a no-op once it has exited; relay-inside hands it to the command otherwise
    child.stdin!.end(); // the command, which outlives relay-inside outside a jail, ends with its stdin
  }
  assert.is(code, 1);
  assert.is(stderr, "relay-inside: the launcher is gone; ending the jail\n");
});

// --- relay-inside's check that the drop to --user took ---------------------------
// A preload stands in for the kernel: set*id do nothing (or throw) and
// /proc/self/status reads as the test writes it, so each way a drop can fail
// to take is shown on its own. The expected fields are literals here.

const GOOD_STATUS = ["Name:\tnode", "Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534", "Groups:\t", "CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000", ""].join("\n");

function withField(status: string, field: string, value: string | undefined): string {
  return status
    .split("\n")
    .filter((line) => value !== undefined || !line.startsWith(`${field}:`))
    .map((line) => (value !== undefined && line.startsWith(`${field}:`) ? `${field}:\t${value}` : line))
    .join("\n");
}

const FAKE_KERNEL = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const status = process.env.FAKE_STATUS;
const readFileSync = fs.readFileSync;
for (const call of ["setgroups", "setgid", "setuid"]) {
  process[call] = () => {
    if (process.env.FAKE_THROW === call) throw new Error("EPERM, Operation not permitted");
  };
}
fs.readFileSync = (path, ...rest) => (path === "/proc/self/status" ? readFileSync(status, "utf8") : readFileSync(path, ...rest));
syncBuiltinESMExports();
`;

async function relayInsideDroppingTo(status: string, throwing?: string): Promise<{ code: number | null; stderr: string; ran: boolean }> {
  const kernel = join(dir, "fake-kernel.mjs");
  const statusFile = join(dir, "status");
  const marker = join(dir, "ran");
  await writeFile(kernel, FAKE_KERNEL);
  await writeFile(statusFile, status);
  const child = spawn(
    process.execPath,
    ["--import", kernel, relayScript, "--run", runDir, "--port", String(await unusedPort()), "--user", "65534:65534", "--", process.execPath, "-e", `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "")`],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, FAKE_STATUS: statusFile, ...(throwing ? { FAKE_THROW: throwing } : {}) } },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const { code } = await within(exited(child), "relay-inside to exit");
  return { code, stderr, ran: existsSync(marker) };
}

test("relay-inside runs the command once the drop to --user shows in /proc/self/status: all four ids, no groups, no capabilities", async () => {
  const result = await relayInsideDroppingTo(GOOD_STATUS);
  assert.equal(result, { code: 0, stderr: "", ran: true });
});

test("relay-inside refuses to go on when any one sign of the drop is missing from /proc/self/status", async () => {
  const cases: [string, string, string | undefined][] = [
    ["a uid still 0", "Uid", "0\t0\t0\t0"],
    ["a saved uid still 0", "Uid", "65534\t65534\t0\t65534"],
    ["a gid still 0", "Gid", "0\t0\t0\t0"],
    ["a filesystem gid still 0", "Gid", "65534\t65534\t65534\t0"],
    ["a supplementary group", "Groups", "0 "],
    ["no Groups line", "Groups", undefined],
    ["an effective capability (CAP_SETUID, CAP_SETGID)", "CapEff", "00000000000000c0"],
    ["a high effective capability", "CapEff", "0000001000000000"],
    ["a permitted capability", "CapPrm", "00000000000000c0"],
    ["a high permitted capability", "CapPrm", "0000001000000000"],
    ["no CapPrm line", "CapPrm", undefined],
  ];
  for (const [what, field, value] of cases) {
    const result = await relayInsideDroppingTo(withField(GOOD_STATUS, field, value));
    assert.is(result.code, 1, what);
    assert.match(result.stderr, /^relay-inside: still privileged after dropping to uid 65534: /, what);
    assert.not.ok(result.ran, `${what}: the command never ran`);
  }
  const rootStill = await relayInsideDroppingTo(withField(withField(GOOD_STATUS, "Uid", "0\t0\t0\t0"), "CapEff", "000001ffffffffff"));
  assert.is(rootStill.stderr, "relay-inside: still privileged after dropping to uid 65534: Uid 0\t0\t0\t0, Gid 65534\t65534\t65534\t65534, CapEff 000001ffffffffff\n");
});

test("relay-inside refuses to go on when it cannot drop to --user", async () => {
  for (const call of ["setgroups", "setgid", "setuid"]) {
    const result = await relayInsideDroppingTo(GOOD_STATUS, call);
    assert.equal(result, { code: 1, stderr: "relay-inside: cannot become uid 65534, gid 65534: EPERM, Operation not permitted\n", ran: false }, call);
  }
});

test.run();
