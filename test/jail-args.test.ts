// The jail's pure pieces: bwrap arguments, relay-inside's command line, the
// macOS profile, stderr classification, detection with canned probes, and
// the jail command for each platform.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  bwrapArgs,
  classifyBwrapFailure,
  detectJail,
  isolationArgs,
  jailCommand,
  jailScripts,
  relaySocketPath,
  sandboxProfile,
  type ProbeRunner,
} from "../src/backends/smolmachines/jail/index.js";
import { bwrapProbeArgs, BWRAP_INSTALL_FIX, USERNS_FIX } from "../src/backends/smolmachines/jail/detect.js";
import { parseRelayInsideArgs } from "../src/backends/smolmachines/jail/relay-inside-args.js";
import { sandboxPaths, sbplString } from "../src/backends/smolmachines/jail/sandbox-profile.js";
import { requireTools, skipSuite } from "./helpers/skip.js";

const RUN = "/tmp/bottle-1000/demo";

// --- bwrap arguments -------------------------------------------------------

test("bwrapArgs isolates network, pid, ipc and uts, and ties the jail to its parent", () => {
  const args = bwrapArgs({ runDir: RUN, command: ["gvproxy", "-config", "x.yaml"] });
  for (const flag of ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--as-pid-1", "--die-with-parent", "--new-session"]) {
    assert.ok(args.includes(flag), `missing ${flag}`);
  }
  assert.not.ok(args.includes("--share-net"));
  assert.not.ok(args.includes("--unshare-all"));
  const capDrop = args.indexOf("--cap-drop");
  assert.is(args[capDrop + 1], "ALL");
});

test("bwrapArgs binds / read-only, then the run dir writable, then runs the command after --", () => {
  const args = bwrapArgs({ runDir: RUN, command: ["gvproxy", "-config", "x.yaml"] });
  const root = args.indexOf("--ro-bind");
  assert.equal(args.slice(root, root + 3), ["--ro-bind", "/", "/"]);
  assert.equal(args.slice(args.indexOf("--dev"), args.indexOf("--dev") + 2), ["--dev", "/dev"]);
  assert.equal(args.slice(args.indexOf("--proc"), args.indexOf("--proc") + 2), ["--proc", "/proc"]);
  const run = args.indexOf("--bind");
  assert.equal(args.slice(run, run + 3), ["--bind", RUN, RUN]);
  assert.ok(run > root, "a later mount wins: the run dir must come after the read-only root");
  assert.equal(args.slice(args.indexOf("--")), ["--", "gvproxy", "-config", "x.yaml"]);
  assert.is(args.filter((arg) => arg === "--bind").length, 1, "nothing else is writable");
});

test("bwrapArgs refuses an empty command", () => {
  assert.throws(() => bwrapArgs({ runDir: RUN, command: [] }), /needs a command/);
});

const help = spawnSync("bwrap", ["--help"], { encoding: "utf8" });
if (help.status === 0) {
  test("every flag the jail uses is one this machine's bwrap knows", () => {
    for (const flag of isolationArgs().filter((arg) => arg.startsWith("--"))) {
      assert.ok(new RegExp(`^\\s+${flag}\\b`, "m").test(help.stdout), `bwrap --help does not list ${flag}`);
    }
  });
} else {
  skipSuite("jail-args (bwrap flags)", `\`bwrap --help\` did not run: ${requireTools(["bwrap"]) ?? help.error?.message ?? `exit ${help.status}`}`);
}

// --- relay-inside's command line and socket paths ----------------------------

test("parseRelayInsideArgs reads the run dir, each port and the command", () => {
  const parsed = parseRelayInsideArgs(["--run", RUN, "--port", "4101", "--port", "4102", "--", "gvproxy", "--", "-x"]);
  assert.equal(parsed, { ok: true, args: { runDir: RUN, ports: [4101, 4102], command: ["gvproxy", "--", "-x"] } });
});

test("parseRelayInsideArgs rejects what it cannot run", () => {
  const cases: [string[], RegExp][] = [
    [["--port", "1", "--", "x"], /--run is required/],
    [["--run", RUN, "--", "x"], /at least one --port/],
    [["--run", RUN, "--port", "0", "--", "x"], /not a port/],
    [["--run", RUN, "--port", "70000", "--", "x"], /not a port/],
    [["--run", RUN, "--port", "12a", "--", "x"], /not a port/],
    [["--run", RUN, "--port", "5", "--port", "5", "--", "x"], /twice/],
    [["--run", RUN, "--port", "5", "--"], /command is required/],
    [["--run", RUN, "--port", "5"], /command is required/],
    [["--run", RUN, "--port", "5", "--verbose", "1", "--", "x"], /unknown argument --verbose/],
    [["--run", "--", "x"], /--run needs a value/],
  ];
  for (const [argv, error] of cases) {
    const parsed = parseRelayInsideArgs(argv);
    assert.is(parsed.ok, false, argv.join(" "));
    if (!parsed.ok) assert.match(parsed.error, error);
  }
});

test("relaySocketPath puts each port's socket under <run>/relays and refuses paths over 107 bytes", () => {
  assert.is(relaySocketPath(RUN, 4101), `${RUN}/relays/4101.sock`);
  const longRun = `/tmp/${"x".repeat(90)}`;
  assert.throws(() => relaySocketPath(longRun, 4101), /over the 107-byte limit/);
});

// --- macOS profile -----------------------------------------------------------

test("sandboxProfile denies all network, then allows exactly the sidecar ports on localhost", () => {
  const profile = sandboxProfile({ runDir: "/Users/me/.run/demo", ports: [4101, 4102] });
  const lines = profile.trim().split("\n");
  assert.is(lines[0], "(version 1)");
  assert.ok(lines.indexOf("(deny network*)") > lines.indexOf("(allow default)"), "the deny must come after allow default");
  assert.ok(lines.includes('(allow network-outbound (remote tcp "localhost:4101"))'));
  assert.ok(lines.includes('(allow network-outbound (remote tcp "localhost:4102"))'));
  assert.ok(lines.includes('(allow network-outbound (remote unix-socket (subpath "/Users/me/.run/demo")))'));
  assert.ok(lines.includes('(allow network-bind network-inbound (local unix-socket (subpath "/Users/me/.run/demo")))'));
});

test("sandboxProfile has no blanket network allow: every network allow names a sidecar port or the run dir", () => {
  const profile = sandboxProfile({ runDir: "/tmp/bottle-501/demo", ports: [4101] });
  const allows = profile.split("\n").filter((line) => /^\(allow [^)]*network/.test(line));
  assert.ok(allows.length > 0);
  for (const line of allows) {
    assert.match(line, /\(remote tcp "localhost:4101"\)|unix-socket \(subpath "(\/private)?\/tmp\/bottle-501\/demo"\)/, line);
  }
  assert.not.match(profile, /\(allow network\*\)/);
  assert.not.match(profile, /\(remote ip/);
  assert.not.match(profile, /"\*:/);
});

test("sandboxProfile lists a run dir under /tmp under its /private spelling too", () => {
  assert.equal(sandboxPaths("/tmp/bottle-501/demo/"), ["/tmp/bottle-501/demo", "/private/tmp/bottle-501/demo"]);
  assert.equal(sandboxPaths("/var/folders/x"), ["/var/folders/x", "/private/var/folders/x"]);
  assert.equal(sandboxPaths("/Users/me/run"), ["/Users/me/run"]);
  assert.equal(sandboxPaths("/tmpfoo/run"), ["/tmpfoo/run"]);
});

test("sandboxProfile escapes the run dir as an S-expression string", () => {
  assert.is(sbplString('/Users/me/we"ird\\dir'), '"/Users/me/we\\"ird\\\\dir"');
  const profile = sandboxProfile({ runDir: '/Users/me/a"b) (allow network*', ports: [4101] });
  assert.ok(profile.includes('(subpath "/Users/me/a\\"b) (allow network*")'));
  assert.not.ok(profile.split("\n").includes("(allow network*)"));
});

test("sandboxProfile refuses relative run dirs, control characters, bad ports and no ports", () => {
  assert.throws(() => sandboxProfile({ runDir: "run/demo", ports: [4101] }), /not absolute/);
  assert.throws(() => sandboxProfile({ runDir: "/tmp/a\nb", ports: [4101] }), /control character/);
  assert.throws(() => sandboxProfile({ runDir: "/tmp/a", ports: [0] }), /not a port/);
  assert.throws(() => sandboxProfile({ runDir: "/tmp/a", ports: [] }), /at least one/);
});

// --- detection -------------------------------------------------------------

const UBUNTU_APPARMOR = "bwrap: setting up uid map: Permission denied\n";
const DEBIAN_CLONE_OFF =
  "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.\n";
const LOOPBACK_DENIED = "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n";
const NAMESPACE_FAILED = "bwrap: Creating new namespace failed: Invalid argument\n";

test("classifyBwrapFailure names the user-namespace knobs for each restriction message", () => {
  for (const stderr of [UBUNTU_APPARMOR, DEBIAN_CLONE_OFF, LOOPBACK_DENIED, NAMESPACE_FAILED]) {
    const { reason, fix } = classifyBwrapFailure(stderr);
    assert.match(reason, /cannot create the jail's namespaces/, stderr);
    assert.ok(reason.includes(stderr.trim().split("\n")[0] ?? "?"), "the reason quotes bwrap");
    assert.is(fix, USERNS_FIX);
  }
  assert.match(USERNS_FIX, /kernel\.apparmor_restrict_unprivileged_userns=0/);
  assert.match(USERNS_FIX, /AppArmor profile for \/usr\/bin\/bwrap/);
  assert.match(USERNS_FIX, /userns,/);
  assert.match(USERNS_FIX, /kernel\.unprivileged_userns_clone=1/);
});

test("classifyBwrapFailure passes any other failure on with bwrap's own words", () => {
  const { reason, fix } = classifyBwrapFailure("bwrap: Can't find source path /nope: No such file or directory\n");
  assert.match(reason, /probe failed \(bwrap said: bwrap: Can't find source path \/nope/);
  assert.not.match(fix, /sysctl/);
});

/** A PATH where only /fake/bin/bwrap exists. */
const onlyFakeBwrap = async (path: string): Promise<boolean> => path === "/fake/bin/bwrap";

test("detectJail on Linux finds bwrap on PATH and probes it with the jail's own flags", async () => {
  const calls: [string, readonly string[]][] = [];
  const run: ProbeRunner = async (command, args) => {
    calls.push([command, args]);
    return { code: 0, stderr: "" };
  };
  const support = await detectJail("linux", { run, pathEnv: "relative/bin:/usr/nothing:/fake/bin", isExecutable: onlyFakeBwrap });
  assert.equal(support, { kind: "bwrap", bwrap: "/fake/bin/bwrap" });
  assert.equal(calls, [["/fake/bin/bwrap", bwrapProbeArgs()]]);
  const probe = bwrapProbeArgs();
  for (const flag of ["--unshare-net", "--ro-bind", "--dev", "--proc"]) assert.ok(probe.includes(flag), flag);
  assert.equal(probe.slice(-2), ["--", "true"]);
});

test("detectJail on Linux turns a restricted user namespace into a fix", async () => {
  const run: ProbeRunner = async () => ({ code: 1, stderr: UBUNTU_APPARMOR });
  const support = await detectJail("linux", { run, pathEnv: "/fake/bin", isExecutable: onlyFakeBwrap });
  assert.is(support.kind, "unavailable");
  if (support.kind === "unavailable") {
    assert.match(support.reason, /setting up uid map: Permission denied/);
    assert.is(support.fix, USERNS_FIX);
  }
});

test("detectJail on Linux without bwrap says how to install it, without probing", async () => {
  let probed = false;
  const run: ProbeRunner = async () => {
    probed = true;
    return { code: 0, stderr: "" };
  };
  const support = await detectJail("linux", { run, pathEnv: "/usr/bin:/bin", isExecutable: async () => false });
  assert.equal(support, {
    kind: "unavailable",
    reason: "bubblewrap (bwrap) is not on PATH; bottle needs it to jail gvproxy's network",
    fix: BWRAP_INSTALL_FIX,
  });
  assert.match(BWRAP_INSTALL_FIX, /apt-get install bubblewrap/);
  assert.match(BWRAP_INSTALL_FIX, /dnf install bubblewrap/);
  assert.is(probed, false);
});

test("detectJail on macOS uses /usr/bin/sandbox-exec, and other platforms have no jail", async () => {
  const present = await detectJail("darwin", { isExecutable: async (path) => path === "/usr/bin/sandbox-exec" });
  assert.equal(present, { kind: "sandbox-exec", path: "/usr/bin/sandbox-exec" });
  const missing = await detectJail("darwin", { isExecutable: async () => false });
  assert.is(missing.kind, "unavailable");
  const windows = await detectJail("win32");
  assert.is(windows.kind, "unavailable");
  if (windows.kind === "unavailable") assert.match(windows.reason, /win32/);
});

// --- the jail command --------------------------------------------------------

const scripts = { relayScript: "/opt/bottle/relay-inside.js", launcherScript: "/opt/bottle/bwrap-launcher.js" };

test("jailCommand on Linux runs launcher -> bwrap -> relay-inside -> the inner command", () => {
  const { command, args } = jailCommand({
    support: { kind: "bwrap", bwrap: "/usr/bin/bwrap" },
    runDir: RUN,
    ports: [4101, 4102],
    inner: ["/usr/bin/gvproxy", "-config", "/stage/gvproxy.yaml"],
    nodePath: "/usr/bin/node",
    ...scripts,
  });
  assert.is(command, "/usr/bin/node");
  assert.equal(args.slice(0, 2), [scripts.launcherScript, "/usr/bin/bwrap"]);
  const inner = ["/usr/bin/node", scripts.relayScript, "--run", RUN, "--port", "4101", "--port", "4102", "--", "/usr/bin/gvproxy", "-config", "/stage/gvproxy.yaml"];
  assert.equal(args.slice(2), bwrapArgs({ runDir: RUN, command: inner }));
});

test("jailCommand on macOS runs sandbox-exec with the profile, and no relays", () => {
  const { command, args } = jailCommand({
    support: { kind: "sandbox-exec", path: "/usr/bin/sandbox-exec" },
    runDir: RUN,
    ports: [4101],
    inner: ["/opt/gvproxy", "-config", "g.yaml"],
    nodePath: "/usr/bin/node",
    ...scripts,
  });
  assert.is(command, "/usr/bin/sandbox-exec");
  assert.equal(args, ["-p", sandboxProfile({ runDir: RUN, ports: [4101] }), "/opt/gvproxy", "-config", "g.yaml"]);
});

test("jailCommand refuses an empty inner command and bad ports", () => {
  const base = { support: { kind: "bwrap", bwrap: "/usr/bin/bwrap" } as const, runDir: RUN, nodePath: "/usr/bin/node", ...scripts };
  assert.throws(() => jailCommand({ ...base, ports: [4101], inner: [] }), /no command/);
  assert.throws(() => jailCommand({ ...base, ports: [65536], inner: ["x"] }), /not a port/);
});

test("jailScripts points at the compiled relay-inside.js and bwrap-launcher.js", () => {
  const { relayScript, launcherScript } = jailScripts();
  assert.match(relayScript, /\/jail\/relay-inside\.js$/);
  assert.match(launcherScript, /\/jail\/bwrap-launcher\.js$/);
  assert.ok(existsSync(relayScript));
  assert.ok(existsSync(launcherScript));
});

test.run();
