// The jail as an ordinary user starts it (the usual case; the other jail
// suites run as root): inside it is nobody, files it makes belong outside to
// that user, and a unix socket it listens on can be dialled by that user on
// the host, which is what the machine step and the namespace machine do with
// gvproxy's socket. Needs root (to make the user) and bwrap.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { makeUser } from "./helpers/users.js";
import { underJailParent } from "./helpers/jail.js";
import { detectJail, jailCommand, jailFileSystem, jailLayout, jailScripts, prepareJailDir, type AvailableJail } from "../src/backends/smolmachines/jail/index.js";
import { exitOf } from "./helpers/fakes.js";
import { waitForOutput } from "./helpers/process.js";
import { tempDir } from "./helpers/tmp.js";

const PROBE = fileURLToPath(new URL("./jail-probe.js", import.meta.url));

const support = await detectJail();
const isRoot = process.getuid?.() === 0;

if (support.kind !== "bwrap") {
  skipSuite("jail-ordinary-user", support.kind === "unavailable" ? support.reason : `this host uses ${support.kind}`);
} else if (!isRoot) {
  skipSuite("jail-ordinary-user", "needs root to make a user with useradd");
} else {
  let uid = -1;
  let gid = -1;

  test.before(() => {
    ({ uid, gid } = makeUser("jail"));
  });

  /** A run dir the user owns, with its jail dir and relays dir made as the launch makes them. */
  function runDirOf(owner: number, group: number): string {
    const parent = tempDir("bj-user-");
    chmodSync(parent, 0o755);
    const runDir = join(parent, "run");
    mkdirSync(runDir, { mode: 0o700 });
    const layout = prepareJailDir(runDir);
    mkdirSync(layout.relayDir, { mode: 0o700 });
    for (const path of [runDir, layout.dir, layout.relayDir]) chownSync(path, owner, group);
    return runDir;
  }

  test("as an ordinary user, the jail's socket is made by nobody inside, owned by the user outside, and the user can dial it", async () => {
    const runDir = runDirOf(uid, gid);
    const socket = join(jailLayout(runDir).dir, "gvproxy.sock");
    const [node, ...parentArgs] = underJailParent(
      jailCommand({
        support: support as AvailableJail,
        runDir,
        ports: [45679], // relay-inside needs one; nothing dials it
        inner: [process.execPath, PROBE, "listen", "--socket", socket],
        ...jailScripts(),
        fileSystem: jailFileSystem({ nodePath: process.execPath, files: [], uid }),
      }),
    );
    // Its parent (bottle's stand-in) runs as the user, as bottle would.
    const jail = spawn(node, parentArgs, { uid, gid, stdio: ["ignore", "pipe", "pipe"], env: {} });
    let stderr = "";
    jail.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = exitOf(jail, () => ({ stdout: "", stderr }), 30_000);
    await waitForOutput(jail, "ready").catch((error: Error) => {
      throw new Error(`${error.message}\nstderr: ${stderr}`);
    });
    const stat = statSync(socket);
    assert.ok(stat.isSocket());
    assert.is(stat.uid, uid, "the socket belongs to the user who started the jail");

    const dial = `require("node:net").connect(${JSON.stringify(socket)}).on("data", (b) => process.stdout.write(b)).on("error", (e) => { console.log(e.code); process.exit(1); })`;
    const asUser = spawnSync(process.execPath, ["-e", dial], { uid, gid, encoding: "utf8", env: {} });
    assert.is(asUser.stdout, "from the jail", asUser.stderr);

    jail.kill("SIGTERM");
    await exit;
  });
}

test.run();
