// The launcher's side of <run>/jail, which a compromised gvproxy can write:
// each test plants what such a jail could (a symlink, a FIFO, a swapped
// directory) and shows the launcher neither follows it nor hands it on.
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  handOverJailDir,
  jailFileTail,
  linkGvproxySocket,
  prepareJailDir,
  printableText,
  readJailFile,
  ROOT_JAIL_USER,
  startHostRelays,
  type JailCredentials,
} from "../src/backends/smolmachines/jail/index.js";
import { requireRoot } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";

const USERNS: JailCredentials = { kind: "userns" };
const AS_ROOT: JailCredentials = { kind: "drop", ...ROOT_JAIL_USER };

const servers: Server[] = [];

test.after.each(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A unix socket server that answers every connection with `name`. */
async function socketServer(path: string, name: string): Promise<Server> {
  const server = createServer((socket) => socket.end(name));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  servers.push(server);
  return server;
}

/** What a connection to `path` is answered with, or the error code. */
function answer(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("end", () => resolve(reply));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function world(): { dir: string; runDir: string } {
  const dir = tempDir("bj-dir-");
  const runDir = join(dir, "run");
  mkdirSync(runDir, { mode: 0o700 });
  return { dir, runDir };
}

test("prepareJailDir makes a private, empty jail dir, removing what an earlier jail left without following its symlinks", () => {
  const { dir, runDir } = world();
  const victim = join(dir, "victim");
  mkdirSync(victim);
  writeFileSync(join(victim, "keep"), "mine");
  // An earlier jail cannot replace jail/ itself (its mount point), but bottle must not trust it either way.
  symlinkSync(victim, join(runDir, "jail"));
  const layout = prepareJailDir(runDir);
  const stat = lstatSync(layout.dir);
  assert.ok(stat.isDirectory() && !stat.isSymbolicLink());
  assert.is(stat.mode & 0o777, 0o700);
  assert.is(readFileSync(join(victim, "keep"), "utf8"), "mine", "the symlink's target is untouched");

  writeFileSync(join(layout.dir, "gvproxy.log"), "old");
  symlinkSync(victim, join(layout.dir, "relays"));
  prepareJailDir(runDir);
  assert.not.ok(existsSync(join(layout.dir, "gvproxy.log")));
  assert.not.ok(existsSync(join(layout.dir, "relays")));
  assert.ok(existsSync(join(victim, "keep")));
});

test("a jail that swaps its socket for a symlink to another program's socket cannot hand that socket to the machine", async () => {
  const { dir, runDir } = world();
  const victim = join(dir, "docker.sock");
  await socketServer(victim, "victim");
  const layout = prepareJailDir(runDir);
  symlinkSync(victim, layout.gvproxySocket);
  // The attack is real: whatever connects to the jail's path reaches the victim.
  assert.is(await answer(layout.gvproxySocket), "victim");
  assert.throws(() => linkGvproxySocket(layout, USERNS), /jail\/gvproxy\.sock is not a unix socket of the jail's user; gvproxy in its jail did not make it/);
  assert.not.ok(existsSync(layout.hostGvproxySocket), "nothing for the machine to mount");
});

test("the machine's socket is a hard link the jail cannot redirect after the launcher checked it", async () => {
  const { dir, runDir } = world();
  const victim = join(dir, "agent.sock");
  await socketServer(victim, "victim");
  const layout = prepareJailDir(runDir);
  await socketServer(layout.gvproxySocket, "gvproxy");
  const host = linkGvproxySocket(layout, USERNS);
  assert.is(host, join(runDir, "gvproxy.sock"));
  assert.is(await answer(host), "gvproxy");
  // Later, the jail swaps its own path for a link to the victim.
  rmSync(layout.gvproxySocket);
  symlinkSync(victim, layout.gvproxySocket);
  assert.is(await answer(host), "gvproxy", "the host link still reaches the socket gvproxy made");
  assert.ok(lstatSync(host).isSocket());
});

if (requireRoot() === null) {
  test("bottle run as root: the jail dir, relays dir and relay sockets go to the jail's uid, and only a socket of that uid is handed on", async () => {
    const { runDir } = world();
    const layout = prepareJailDir(runDir);
    const relays = await startHostRelays({ runDir, ports: [4101] });
    try {
      handOverJailDir(layout, USERNS);
      assert.is(statSync(layout.dir).uid, 0, "an ordinary user's jail keeps bottle's own uid");
      handOverJailDir(layout, AS_ROOT);
      for (const path of [layout.dir, layout.relayDir, relays.sockets[0]!]) {
        const stat = lstatSync(path);
        assert.equal([stat.uid, stat.gid], [ROOT_JAIL_USER.uid, ROOT_JAIL_USER.gid], path);
      }
      assert.is(statSync(layout.dir).mode & 0o777, 0o700);
      assert.is(statSync(runDir).uid, 0, "the run dir stays bottle's");
      // A socket of root's is not the jail's: the jail cannot make one, so something else did.
      await socketServer(layout.gvproxySocket, "not the jail");
      assert.throws(() => linkGvproxySocket(layout, AS_ROOT), /not a unix socket of the jail's user/);
      chownSync(layout.gvproxySocket, ROOT_JAIL_USER.uid, ROOT_JAIL_USER.gid);
      assert.is(linkGvproxySocket(layout, AS_ROOT), layout.hostGvproxySocket);
    } finally {
      await relays.close();
    }
  });

  test("root's jail without relays: the jail dir alone is handed over; a relays name that is not a directory is an error, not skipped", () => {
    const { runDir } = world();
    const layout = prepareJailDir(runDir);
    handOverJailDir(layout, AS_ROOT);
    assert.equal([lstatSync(layout.dir).uid, lstatSync(layout.dir).gid], [65534, 65534]);
    assert.not.ok(existsSync(layout.relayDir));

    const other = prepareJailDir(world().runDir);
    writeFileSync(other.relayDir, "not a dir");
    assert.throws(() => handOverJailDir(other, AS_ROOT), (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOTDIR");
    assert.is(lstatSync(other.relayDir).uid, 0, "nothing handed over past the error");
  });
} else {
  console.log(`skipped: jail-dir (root's jail): ${requireRoot()}`);
}

test("a log the jail replaced by a symlink to a host secret is not read, and a FIFO does not block", () => {
  const { dir, runDir } = world();
  const layout = prepareJailDir(runDir);
  const secret = join(dir, "id_ed25519");
  writeFileSync(secret, "PRIVATE KEY\n", { mode: 0o600 });
  symlinkSync(secret, layout.gvproxyLog);
  assert.is(readJailFile(layout.gvproxyLog), undefined);
  assert.is(jailFileTail(layout.gvproxyLog), "");

  rmSync(layout.gvproxyLog);
  assert.is(spawnSync("mkfifo", [layout.gvproxyLog]).status, 0);
  assert.is(readJailFile(layout.gvproxyLog), undefined, "returns at once: no writer will ever come");

  rmSync(layout.gvproxyLog);
  writeFileSync(layout.gvproxyLog, `${Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n")}\n`);
  assert.is(jailFileTail(layout.gvproxyLog, 2), "line 28\nline 29");
  assert.is(readJailFile(layout.gvproxyLog, 8)?.toString(), "line 29\n", "only the end, at most maxBytes");
});

test("readJailFile closes its descriptor whatever it finds: a log, a FIFO, a directory", () => {
  const { runDir } = world();
  const layout = prepareJailDir(runDir);
  writeFileSync(layout.gvproxyLog, "log\n");
  assert.is(spawnSync("mkfifo", [layout.gvproxyPid]).status, 0);
  mkdirSync(layout.relayDir);
  const open = (): number => readdirSync("/proc/self/fd").length;
  const before = open();
  for (let i = 0; i < 20; i++) {
    assert.is(readJailFile(layout.gvproxyLog)?.toString(), "log\n");
    assert.is(readJailFile(layout.gvproxyPid), undefined);
    assert.is(readJailFile(layout.relayDir), undefined);
  }
  assert.is(open(), before);
});

test("what the jail wrote is shown only as printable text: escape sequences become ?", () => {
  assert.is(printableText("ok\tline\n\u001b]0;owned\u0007\u001b[2Jnext\r\u009b"), "ok\tline\n?]0;owned??[2Jnext??");
});

test("host relays refuse a relays dir an earlier jail left as a symlink: no chmod through it, no socket in its target", async () => {
  const { dir, runDir } = world();
  const layout = prepareJailDir(runDir);
  const victim = join(dir, "victim");
  mkdirSync(victim, { mode: 0o755 });
  symlinkSync(victim, layout.relayDir);
  await startHostRelays({ runDir, ports: [4101] }).then(
    () => assert.unreachable("relays started in a symlinked dir"),
    (error: Error) => assert.match(error.message, /relays: it is a symlink, not a directory/),
  );
  assert.is(statSync(victim).mode & 0o777, 0o755, "no chmod through the symlink");
  assert.equal(readdirSync(victim), [], "no socket made in the victim's dir");
});

test.run();
