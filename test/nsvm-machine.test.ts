// The namespace machine (test/nsvm) stands in for smolvm's microVM with real
// Linux namespaces. Each test checks one property the real-network suites
// rely on, by running commands in a machine and looking from both sides.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NSVM_BIN } from "./helpers/real-tools.js";
import { requireRoot, requireTools, skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";

const SMOLVM = join(NSVM_BIN, "smolvm");
const FAKE_SMOLVM = join(NSVM_BIN, "..", "..", "fixtures", "bin", "smolvm");
const missing = requireRoot("the namespace machine makes namespaces and enters them") ?? requireTools(["bwrap", "nsenter"]);

if (missing) {
  skipSuite("nsvm-machine", missing);
} else {
  const dir = tempDir("nsvm-");
  const state = join(dir, "state");
  const [rw, ro] = [join(dir, "rw"), join(dir, "ro")];
  for (const d of [rw, ro]) mkdirSync(d);
  writeFileSync(join(ro, "given"), "from the host\n");
  writeFileSync(join(dir, "host-tmp-marker"), "");
  const socketPath = join(dir, "s.sock");
  const secretValue = `nsvm-secret-${process.pid}`;
  const env = { ...process.env, FAKES_STATE: state, NSVM_TEST_SECRET: secretValue };
  const smolfile = join(dir, "smolfile.toml");
  writeFileSync(
    smolfile,
    [
      'image = "debian:bookworm-slim"',
      'env = ["GREETING=hello"]',
      'workdir = "/workspace"',
      `volumes = ["${rw}:/workspace", "${ro}:/opt/given:ro"]`,
      "net = false",
      "[secrets]",
      'TOKEN = { from_env = "NSVM_TEST_SECRET" }',
      "",
    ].join("\n"),
  );
  const run = (args: string[], bin = SMOLVM) => spawnSync(bin, args, { env, encoding: "utf8", timeout: 30_000 });
  const guest = (script: string) => run(["machine", "exec", "--name", "nst", "--", "sh", "-c", script]);
  let connections = 0;
  let server: Server;

  test.before(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end("from the host socket\n");
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    for (const args of [["create", "--name", "nst", "-s", smolfile, "--mount-socket", `${socketPath}:/run/bottle/host.sock`], ["start", "--name", "nst"]]) {
      const result = run(["machine", ...args]);
      assert.is(result.status, 0, result.stderr);
    }
  });

  test.after(() => {
    run(["machine", "delete", "--name", "nst", "-f"]);
    server.close();
  });

  test("its network namespace has only lo, and no route", () => {
    const result = guest("ip -o link | awk '{print $2}'; ip route; cat /proc/net/dev | tail -n +3 | cut -d: -f1");
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stdout.replace(/\s+/g, " ").trim(), "lo: lo");
  });

  test("its own PID namespace: the guest sees only its own processes", () => {
    const result = guest("ls /proc | grep -c '^[0-9]'");
    assert.ok(Number(result.stdout) < 10, result.stdout);
    assert.is(guest(`kill -0 ${process.pid} 2>/dev/null && echo seen || echo unseen`).stdout.trim(), "unseen");
  });

  test("the host's root is read-only; /tmp, /run, /root and /etc/resolv.conf are private and writable", () => {
    assert.match(guest("touch /usr/nsvm-probe 2>&1; echo $?").stdout, /Read-only file system/);
    assert.is(existsSync("/usr/nsvm-probe"), false);
    const result = guest(`echo x > /tmp/t && echo y > /run/r && echo z > /root/z && echo 'nameserver 192.0.2.1' > /etc/resolv.conf && test ! -e ${join(dir, "host-tmp-marker")} && echo ok`);
    assert.is(result.stdout.trim(), "ok", result.stderr);
    assert.not.match(readFileSync("/etc/resolv.conf", "utf8"), "192.0.2.1");
  });

  test("volumes are bound at their guest paths, read-only where the Smolfile says so", () => {
    assert.is(guest("echo written > /workspace/out && cat /opt/given/given").stdout, "from the host\n");
    assert.is(readFileSync(join(rw, "out"), "utf8"), "written\n");
    assert.match(guest("touch /opt/given/x 2>&1").stdout, /Read-only file system/);
  });

  test("the mounted socket reaches the host's socket at its guest path", async () => {
    const before = connections;
    // Not spawnSync: the server answering is this process.
    const child = spawn(SMOLVM, ["machine", "exec", "--name", "nst", "--", "node", "-e", "require('net').connect('/run/bottle/host.sock').on('data', (d) => process.stdout.write(d))"], { env });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    assert.is(code, 0);
    assert.is(stdout, "from the host socket\n");
    assert.is(connections, before + 1);
  });

  test("exec runs as root in the workdir with the Smolfile's env and secrets, and returns the command's exit code", () => {
    const result = guest('echo "$(id -u) $(pwd) $GREETING $TOKEN"; exit 7');
    assert.is(result.stdout, `0 /workspace hello ${secretValue}\n`);
    assert.is(result.status, 7);
  });

  test("errors read like the contract fake's: exec needs a running machine, flags are smolvm's", () => {
    for (const args of [["machine", "exec", "--name", "absent", "--", "true"], ["machine", "create", "--name", "x", "-s", smolfile, "--net"]]) {
      const real = run(args);
      const fake = run(args, FAKE_SMOLVM);
      assert.is(real.status, 1);
      assert.is(real.status, fake.status);
      assert.is(real.stderr, fake.stderr);
    }
  });

  test("stop ends every guest process, and exec then says the machine is not running", () => {
    assert.is(guest("sleep 1000 >/dev/null 2>&1 & echo $!").status, 0);
    const sleepers = () => spawnSync("pgrep", ["-f", "^sleep 1000$"], { encoding: "utf8" }).stdout.trim();
    assert.ok(sleepers() !== "", "the guest's sleep runs on the host's kernel");
    assert.is(run(["machine", "stop", "--name", "nst"]).status, 0);
    assert.is(sleepers(), "");
    const after = guest("true");
    assert.is(after.status, 1);
    assert.is(after.stderr, "Error: machine 'nst' is not running\n");
  });

  test.run();
}
