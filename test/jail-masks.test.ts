// The jail hides home dirs, /tmp and /run behind empty read-only tmpfs
// mounts, so a compromised gvproxy cannot read secrets there or reach other
// programs' unix sockets (docker.sock, an ssh-agent). Real bwrap.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { detectJail, existingMasks, jailCommand, jailReadOnlyPaths, jailScripts, packageRoot } from "../src/backends/smolmachines/jail/index.js";
import { exited } from "./helpers/process.js";
import { tempDir } from "./helpers/tmp.js";
import { skipSuite } from "./helpers/skip.js";

const support = await detectJail();

// Run inside the jail: report what it can see and reach, as one JSON line.
const PROBE = `
const fs = require("fs"), net = require("net");
const [secret, agentSocket, runDir] = process.argv.slice(1);
const result = {};
result.secretVisible = fs.existsSync(secret);
try { fs.writeFileSync(runDir + "/written", "x"); result.runDirWritable = true; } catch { result.runDirWritable = false; }
try { fs.writeFileSync("/tmp/escape", "x"); result.tmpWritable = true; } catch { result.tmpWritable = false; }
const socket = net.connect(agentSocket);
socket.on("connect", () => { result.agentReachable = true; done(); });
socket.on("error", (e) => { result.agentReachable = false; result.agentError = e.code; done(); });
function done() { socket.destroy(); console.log(JSON.stringify(result)); }
`;

if (support.kind !== "bwrap") {
  skipSuite("jail-masks", support.kind === "unavailable" ? `${support.reason}; ${support.fix}` : `this host uses ${support.kind}`);
} else {
  test("in the jail, files and unix sockets under /tmp are hidden; the run dir stays writable", async () => {
    const outside = tempDir("bottle-mask-");
    const secret = join(outside, "id_ed25519");
    writeFileSync(secret, "not for the guest");
    const agentSocket = join(outside, "agent.sock");
    const agent = createServer((s) => s.end("ssh-agent says hi"));
    await new Promise<void>((resolve) => agent.listen(agentSocket, resolve));
    const runDir = join(tempDir("bj-"), "run");
    mkdirSync(runDir, { mode: 0o700 });

    const masks = existingMasks();
    assert.ok(masks.includes("/tmp"), "/tmp is masked");
    const { command, args } = jailCommand({
      support,
      runDir,
      ports: [45678], // relay-inside needs one; nothing connects to it
      inner: [process.execPath, "-e", PROBE, secret, agentSocket, runDir],
      nodePath: process.execPath,
      ...jailScripts(),
      masks,
      readOnly: jailReadOnlyPaths([packageRoot(), process.execPath], masks),
    });
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const { code, stdout } = await exited(child);
    agent.close();
    assert.is(code, 0, stderr);
    const seen = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
    assert.is(seen.secretVisible, false);
    assert.is(seen.agentReachable, false);
    assert.is(seen.agentError, "ENOENT");
    assert.is(seen.runDirWritable, true);
    assert.is(seen.tmpWritable, false);
  });

  test("paths the jailed command needs are bound back only when they sit under a mask", () => {
    assert.equal(jailReadOnlyPaths(["/home/u/bottle", "/usr/bin/node", "/home/u/bottle", "/tmp/x/gvproxy.yaml"], ["/home", "/tmp"]), [
      "/home/u/bottle",
      "/tmp/x/gvproxy.yaml",
    ]);
    assert.equal(jailReadOnlyPaths(["/homeless/x"], ["/home"]), []);
  });
}

test.run();
