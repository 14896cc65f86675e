import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderNetUp, shellQuote } from "../src/backends/smolmachines/render/net-up.js";
import { skipSuite } from "./helpers/skip.js";

function writeScript(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "smol-net-up-"));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("shellcheck reports nothing on the rendered script", () => {
  withTempDir((dir) => {
    const script = writeScript(dir, "net-up.sh", renderNetUp());
    const result = spawnSync("shellcheck", ["-s", "sh", script], { encoding: "utf8" });
    assert.is(result.error, undefined, "shellcheck could not be run");
    assert.is(result.status, 0, result.stdout + result.stderr);
  });
});

test("sh -n accepts the rendered script, defaults and overrides alike", () => {
  withTempDir((dir) => {
    for (const [i, text] of [
      renderNetUp(),
      renderNetUp({ socket: "/run/odd dir/it's.sock", iface: "tap1", gvforwarder: "/x/gv", timeoutSeconds: 3 }),
    ].entries()) {
      const result = spawnSync("sh", ["-n", writeScript(dir, `s${i}.sh`, text)], { encoding: "utf8" });
      assert.is(result.status, 0, result.stderr);
    }
  });
});

test("the script starts gvforwarder on the mounted socket, tap0, no stop-if-exist, then execs", () => {
  const text = renderNetUp();
  assert.ok(text.startsWith("#!/bin/sh\n"));
  assert.match(text, /^set -eu$/m);
  assert.match(text, "-url unix:///run/bottle/gvproxy.sock");
  assert.match(text, "-iface tap0");
  assert.match(text, "-stop-if-exist ''");
  assert.match(text, "mknod /dev/net/tun c 10 200");
  assert.match(text, "mounted_forwarder=/opt/bottle/gvforwarder");
  assert.match(text, "timeout=20");
  assert.match(text, /^log=\/tmp\/bottle-gvforwarder\.log$/m, "gvforwarder logs to the guest's private /tmp");
  assert.ok(text.trimEnd().endsWith('exec "$@"'));
});

test("options are rendered shell-quoted", () => {
  const text = renderNetUp({ socket: "/run/it's.sock", timeoutSeconds: 5 });
  assert.match(text, `socket='/run/it'\\''s.sock'`);
  assert.match(text, `-url 'unix:///run/it'\\''s.sock'`);
  assert.match(text, "timeout=5");
  assert.match(renderNetUp({ logFile: "/a b/log" }), /^log='\/a b\/log'$/m);
  assert.is(shellQuote(""), "''");
  assert.is(shellQuote("/plain/path"), "/plain/path");
});

test("a timeout that is not a positive whole number is refused", () => {
  for (const bad of [0, -1, 1.5]) assert.throws(() => renderNetUp({ timeoutSeconds: bad }), /timeout/);
});

// The behaviour below runs the script against fake ip/udhcpc/gvforwarder
// programs. It needs /dev/net/tun to exist, since the script would otherwise
// create it (and that needs root).
interface Sandbox {
  dir: string;
  script: string;
  run: (args: string[], env?: Record<string, string>) => ReturnType<typeof spawnSync>;
  forwarderArgs: () => string[] | null;
  forwarderPid: () => number | null;
}

const FAKE_IP = `#!/bin/sh
# fake ip(8): tap0 has an address once the marker exists. With ip-waits set,
# once the fake forwarder has started it first waits for its forwarder-spoke
# marker, so what the forwarder logged is in its log before net-up can give up.
if [ -e "$SANDBOX/ip-waits" ] && [ -e "$SANDBOX/forwarder.pid" ]; then
  i=0
  while [ ! -e "$SANDBOX/forwarder-spoke" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
fi
[ -e "$SANDBOX/tap0-up" ] && echo "    inet 192.168.43.2/24 scope global tap0"
exit 0
`;

function sandbox(dir: string, forwarderBody: string, timeoutSeconds = 5): Sandbox {
  const bin = join(dir, "bin");
  spawnSync("mkdir", ["-p", bin]);
  writeScript(bin, "ip", FAKE_IP);
  writeScript(bin, "udhcpc", "#!/bin/sh\nexit 0\n");
  const socket = join(dir, "gvproxy.sock");
  writeFileSync(socket, "");
  const forwarder = writeScript(
    dir,
    "gvforwarder",
    `#!/bin/sh\necho $$ > "$SANDBOX/forwarder.pid"\nprintf '%s\\n' "$@" > "$SANDBOX/forwarder.args"\n${forwarderBody}\n`,
  );
  const caCert = join(dir, "ca.pem");
  writeFileSync(caCert, "-----BEGIN CERTIFICATE-----\nthe bottle's CA\n-----END CERTIFICATE-----\n");
  // Its own log and trust bundle: the default /tmp is the guest's private /tmp, shared on the host.
  const script = writeScript(dir, "net-up.sh", renderNetUp({ socket, gvforwarder: forwarder, timeoutSeconds, logFile: join(dir, "gvforwarder.log"), caCert, bundleDir: dir }));
  return {
    dir,
    script,
    run: (args, env = {}) =>
      spawnSync("/bin/sh", [script, ...args], {
        encoding: "utf8",
        timeout: 20_000,
        env: { PATH: `${bin}:/usr/bin:/bin`, SANDBOX: dir, ...env },
      }),
    forwarderArgs: () => {
      const path = join(dir, "forwarder.args");
      return existsSync(path) ? readFileSync(path, "utf8").split("\n").slice(0, -1) : null;
    },
    forwarderPid: () => {
      const path = join(dir, "forwarder.pid");
      return existsSync(path) ? Number(readFileSync(path, "utf8").trim()) : null;
    },
  };
}

function stopProcess(pid: number | null): void {
  if (pid === null) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Alive and not a zombie. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

test("without a command it prints usage and exits 2", () => {
  withTempDir((dir) => {
    const box = sandbox(dir, "exit 0");
    const result = box.run([]);
    assert.is(result.status, 2);
    assert.match(String(result.stderr), /usage:/);
    assert.is(box.forwarderArgs(), null);
  });
});

test("when tap0 already has an address it execs the command without a second gvforwarder", () => {
  withTempDir((dir) => {
    const box = sandbox(dir, "exit 0");
    writeFileSync(join(dir, "tap0-up"), "");
    const result = box.run(["sh", "-c", "echo agent-ran"], { HTTPS_PROXY: "http://proxy.internal:1" });
    assert.is(result.status, 0, String(result.stderr));
    assert.is(String(result.stdout), "agent-ran\n");
    assert.is(box.forwarderArgs(), null);
  });
});

const tunPresent = existsSync("/dev/net/tun") && statSync("/dev/net/tun").isCharacterDevice();
if (!tunPresent) skipSuite("smol-render-net-up (with /dev/net/tun)", "/dev/net/tun is not a character device on this host");

if (tunPresent) {
  test("it starts gvforwarder, waits for tap0's address, then execs with the proxy variables filled", () => {
    withTempDir((dir) => {
      const box = sandbox(dir, 'touch "$SANDBOX/tap0-up"\nexec sleep 30');
      try {
        const result = box.run(["sh", "-c", 'echo "$HTTPS_PROXY|$HTTP_PROXY|$https_proxy|$http_proxy"'], {
          https_proxy: "http://proxy.internal:9",
        });
        assert.is(result.status, 0, String(result.stderr));
        const url = "http://proxy.internal:9";
        assert.is(String(result.stdout), `${url}|${url}|${url}|${url}\n`);
        assert.equal(box.forwarderArgs(), [
          "-url", `unix://${join(dir, "gvproxy.sock")}`, "-iface", "tap0", "-stop-if-exist", "",
        ]);
      } finally {
        stopProcess(box.forwarderPid());
      }
    });
  });

  test("the agent trusts the bottle's CA: NODE_EXTRA_CA_CERTS names it, and the four replacing variables name one bundle of the image's roots plus it", () => {
    withTempDir((dir) => {
      const box = sandbox(dir, 'touch "$SANDBOX/tap0-up"\nexec sleep 30');
      try {
        const result = box.run(["sh", "-c", 'printf "%s|" "$NODE_EXTRA_CA_CERTS" "$SSL_CERT_FILE" "$REQUESTS_CA_BUNDLE" "$CURL_CA_BUNDLE" "$GIT_SSL_CAINFO"'], { HTTPS_PROXY: "http://proxy.internal:9" });
        assert.is(result.status, 0, String(result.stderr));
        const [extra, ...replacing] = String(result.stdout).split("|").slice(0, -1);
        assert.is(extra, join(dir, "ca.pem"));
        assert.is(new Set(replacing).size, 1, String(result.stdout));
        const bundle = readFileSync(replacing[0]!, "utf8");
        const roots = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"].find((path) => existsSync(path));
        if (roots) assert.ok(bundle.startsWith(readFileSync(roots, "utf8")), "the image's roots come first");
        assert.ok(bundle.endsWith(readFileSync(join(dir, "ca.pem"), "utf8")), "then the bottle's CA");
      } finally {
        stopProcess(box.forwarderPid());
      }
    });
  });

  test("without the bottle's CA it refuses to start the agent, naming the file", () => {
    withTempDir((dir) => {
      const box = sandbox(dir, 'touch "$SANDBOX/tap0-up"\nexec sleep 30');
      rmSync(join(dir, "ca.pem"));
      const result = box.run(["true"], { HTTPS_PROXY: "http://proxy.internal:9" });
      assert.is(result.status, 1);
      assert.match(String(result.stderr), `the bottle's CA certificate ${join(dir, "ca.pem")} is missing`);
      assert.is(box.forwarderPid(), null, "nothing was started");
    });
  });

  test("if gvforwarder dies first it fails at once with the log tail", () => {
    withTempDir((dir) => {
      const box = sandbox(dir, "echo 'cannot connect to host: boom'\nexit 3", 15);
      const started = Date.now();
      const result = box.run(["sh", "-c", "echo agent-ran"]);
      assert.is(result.status, 1);
      assert.not.match(String(result.stdout), "agent-ran");
      assert.match(String(result.stderr), "gvforwarder exited before tap0 got an IPv4 address");
      assert.match(String(result.stderr), "cannot connect to host: boom");
      assert.ok(Date.now() - started < 10_000, "did not wait for the 15 s timeout");
    });
  });

  // The real gvforwarder (cmd/vm) logs an error and retries every second; it never exits on one.
  test("a gvforwarder retrying an error that cannot pass fails at once, not at the timeout", () => {
    withTempDir((dir) => {
      const retrying = `while :; do echo 'level=error msg="cannot create tap device: permission denied"'; sleep 1; done`;
      const box = sandbox(dir, retrying, 15);
      try {
        const result = box.run(["sh", "-c", "echo agent-ran"]);
        assert.is(result.status, 1);
        assert.not.match(String(result.stdout), "agent-ran");
        // The timeout's message would say "got no IPv4 address within 15s".
        assert.match(String(result.stderr), "gvforwarder cannot create tap0");
        assert.match(String(result.stderr), "permission denied");
        const pid = box.forwarderPid();
        assert.ok(pid !== null && !isRunning(pid), "gvforwarder was left running");
      } finally {
        stopProcess(box.forwarderPid());
      }
    });
  });

  test("if tap0 never gets an address it gives up after the timeout and stops gvforwarder", () => {
    withTempDir((dir) => {
      // On a loaded machine the forwarder may not have logged within the 1 s timeout: ip waits for it.
      const box = sandbox(dir, "echo 'dhcp error: no lease'\ntouch \"$SANDBOX/forwarder-spoke\"\nexec sleep 30", 1);
      writeFileSync(join(dir, "ip-waits"), "");
      try {
        const result = box.run(["sh", "-c", "echo agent-ran"]);
        assert.is(result.status, 1);
        assert.not.match(String(result.stdout), "agent-ran");
        assert.match(String(result.stderr), "tap0 got no IPv4 address within 1s");
        assert.match(String(result.stderr), "dhcp error: no lease");
        const pid = box.forwarderPid();
        assert.ok(pid !== null && !isRunning(pid), "gvforwarder was left running");
      } finally {
        stopProcess(box.forwarderPid());
      }
    });
  });

  test("it refuses clearly when the image has no DHCP client for gvforwarder", () => {
    withTempDir((dir) => {
      const box = sandbox(dir, "exit 0");
      rmSync(join(dir, "bin", "udhcpc"));
      // A PATH of the fakes and the few tools every image has, so no real DHCP client on this host is found.
      const basics = join(dir, "basics");
      spawnSync("mkdir", ["-p", basics]);
      for (const tool of ["cat", "chmod", "mktemp"]) symlinkSync(spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(), join(basics, tool));
      const result = box.run(["true"], { PATH: `${join(dir, "bin")}:${basics}` });
      assert.is(result.status, 1);
      assert.match(String(result.stderr), "udhcpc or dhclient");
      assert.is(box.forwarderArgs(), null);
    });
  });
}

test.run();
