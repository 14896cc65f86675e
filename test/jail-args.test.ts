// The jail's pure pieces: bwrap arguments, the jail's paths, relay-inside's
// command line, the macOS profile, stderr classification, detection with
// canned probes, the jail command for each platform, and what the jail's
// file system holds.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  bwrapArgs,
  classifyBwrapFailure,
  detectJail,
  isolationArgs,
  JAIL_GID,
  JAIL_UID,
  jailCommand,
  jailCredentials,
  jailFileSystem,
  jailLayout,
  jailScripts,
  LONGEST_SOCKET_IN_RUN_DIR,
  nodeInstallDir,
  procCovers,
  PROC_COVER_CANDIDATES,
  relaySocketPath,
  ROOT_JAIL_USER,
  rootArgs,
  sandboxProfile,
  SYSTEM_DIRS,
  systemMounts,
  type JailCredentials,
  type JailFileSystem,
  type ProbeRunner,
  type ProcCovers,
  type SystemMount,
} from "../src/backends/smolmachines/jail/index.js";
import { bwrapProbeArgs, BWRAP_INSTALL_FIX, BWRAP_UPGRADE_FIX, runProbe, USERNS_FIX } from "../src/backends/smolmachines/jail/detect.js";
import { parseRelayInsideArgs } from "../src/backends/smolmachines/jail/relay-inside-args.js";
import { sandboxPaths, sbplString } from "../src/backends/smolmachines/jail/sandbox-profile.js";
import { tempDir } from "./helpers/tmp.js";
import { requireTools, skipSuite } from "./helpers/skip.js";

const RUN = "/tmp/bottle-1000/demo";
const JAIL = `${RUN}/jail`;
const RELAYS = `${JAIL}/relays`;
/** A merged-/usr host: /usr real, the rest symlinks into it. */
const SYSTEM: SystemMount[] = [
  { kind: "dir", path: "/usr" },
  { kind: "symlink", path: "/bin", target: "usr/bin" },
  { kind: "symlink", path: "/lib64", target: "usr/lib64" },
];
const READ_ONLY = ["/opt/bottle/dist", "/opt/bottle/package.json", "/opt/gvproxy"];
const COPIES = ["/stage/gvproxy.yaml"];
const PROC: ProcCovers = { dirs: ["/proc/sys", "/proc/irq"], files: ["/proc/sysrq-trigger"] };
const USERNS: JailCredentials = { kind: "userns" };
const AS_ROOT: JailCredentials = { kind: "drop", uid: 65534, gid: 65534 };

function jailArgs(command: string[] = ["/opt/gvproxy", "-config", "/stage/gvproxy.yaml"], credentials: JailCredentials = USERNS): string[] {
  return bwrapArgs({ jailDir: JAIL, relayDir: RELAYS, system: SYSTEM, proc: PROC, readOnly: READ_ONLY, copies: COPIES, credentials, command });
}

/** Every [flag, ...operands] group of an argv before `--`. */
function mounts(args: string[], flag: string, operands: number): string[][] {
  const found: string[][] = [];
  const end = args.indexOf("--");
  for (let i = 0; i < end; i++) if (args[i] === flag) found.push(args.slice(i + 1, i + 1 + operands));
  return found;
}

// --- bwrap arguments -------------------------------------------------------

test("bwrapArgs isolates network, pid, ipc and uts, and ties the jail to its parent", () => {
  const args = jailArgs();
  for (const flag of ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--as-pid-1", "--die-with-parent", "--new-session"]) {
    assert.ok(args.includes(flag), `missing ${flag}`);
  }
  assert.not.ok(args.includes("--share-net"));
  assert.not.ok(args.includes("--unshare-all"));
  const capDrop = args.indexOf("--cap-drop");
  assert.is(args[capDrop + 1], "ALL");
});

test("bwrapArgs gives the jail its own user namespace as nobody, with no further user namespaces", () => {
  const args = jailArgs();
  assert.ok(args.includes("--unshare-user"));
  assert.ok(args.includes("--disable-userns"));
  assert.equal(mounts(args, "--uid", 1), [[String(JAIL_UID)]]);
  assert.equal(mounts(args, "--gid", 1), [[String(JAIL_GID)]]);
  assert.is.not(JAIL_UID, 0);
  assert.is.not(JAIL_GID, 0);
});

test("bwrapArgs clears the environment and sets none", () => {
  const args = jailArgs();
  assert.ok(args.includes("--clearenv"));
  assert.ok(args.indexOf("--clearenv") < args.indexOf("--"));
  assert.equal(mounts(args, "--setenv", 2), []);
  assert.equal(mounts(args, "--chdir", 1), [["/"]]);
});

test("bottle run as root: the jail has no user namespace to map it to uid 0; bwrap keeps only what relay-inside needs to drop to nobody", () => {
  assert.equal(jailCredentials(0), { kind: "drop", uid: ROOT_JAIL_USER.uid, gid: ROOT_JAIL_USER.gid });
  assert.equal(jailCredentials(1000), { kind: "userns" });
  assert.is.not(ROOT_JAIL_USER.uid, 0);
  assert.is.not(ROOT_JAIL_USER.gid, 0);
  const args = jailArgs(undefined, AS_ROOT);
  for (const flag of ["--unshare-user", "--uid", "--gid", "--disable-userns"]) assert.not.ok(args.includes(flag), flag);
  assert.equal(mounts(args, "--cap-drop", 1), [["ALL"]]);
  assert.equal(mounts(args, "--cap-add", 1), [["CAP_SETUID"], ["CAP_SETGID"]]);
  for (const flag of ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--as-pid-1", "--die-with-parent", "--new-session", "--clearenv", "--seccomp"]) {
    assert.ok(args.includes(flag), `missing ${flag}`);
  }
});

test("bwrapArgs makes each parent of a bind 0755 first (bwrap 0.8 makes them 0700, root's in the jail of a bottle run as root)", () => {
  const args = jailArgs();
  const dirs = mounts(args, "--dir", 1).map(([dir]) => dir);
  assert.equal(dirs, ["/opt", "/stage", "/tmp", "/opt/bottle", "/tmp/bottle-1000", "/tmp/bottle-1000/demo"]);
  for (let i = 0; i < args.length; i++) if (args[i] === "--dir") assert.equal(args.slice(i - 2, i), ["--perms", "0755"]);
  assert.ok(args.indexOf("--dir") > args.indexOf("--proc") && args.lastIndexOf("--dir") < args.indexOf("--ro-bind", args.indexOf("/proc/sysrq-trigger")) + 100);
  assert.ok(args.lastIndexOf("--dir") < args.indexOf("/opt/bottle/dist"), "before the binds under them");
});

test("bwrapArgs hides the kernel's settings in the fresh /proc: each dir under a read-only tmpfs, each file under read-only /dev/null", () => {
  for (const credentials of [USERNS, AS_ROOT]) {
    const args = jailArgs(undefined, credentials);
    const proc = args.indexOf("/proc", args.indexOf("--proc"));
    const covers = args.slice(proc + 1, args.indexOf("--ro-bind", proc + 1) + 3);
    assert.equal(covers, ["--tmpfs", "/proc/sys", "--remount-ro", "/proc/sys", "--tmpfs", "/proc/irq", "--remount-ro", "/proc/irq", "--ro-bind", "/dev/null", "/proc/sysrq-trigger"]);
  }
  // What this host has of them; /proc/sys and /proc/irq are on every Linux.
  const found = procCovers();
  for (const dir of found.dirs) assert.ok(PROC_COVER_CANDIDATES.dirs.includes(dir));
  for (const file of found.files) assert.ok(PROC_COVER_CANDIDATES.files.includes(file));
  assert.ok(found.dirs.includes("/proc/sys"));
  assert.equal(procCovers({ dirs: ["/proc/sys", "/proc/no-such-dir", "/proc/version"], files: ["/proc/version", "/proc/sys"] }), { dirs: ["/proc/sys"], files: ["/proc/version"] });
});

test("bwrapArgs gives the config as a read-only copy from the descriptor after the seccomp filter's and the lifeline's", () => {
  const args = jailArgs();
  assert.equal(mounts(args, "--ro-bind-data", 2), [["6", "/stage/gvproxy.yaml"]]);
  assert.equal(args.slice(args.indexOf("--ro-bind-data") - 2, args.indexOf("--ro-bind-data")), ["--perms", "0444"]);
});

test("bwrapArgs builds the root from nothing: system dirs and the named files read-only, the jail dir the only writable bind, its relays read-only", () => {
  const args = jailArgs();
  assert.equal(mounts(args, "--ro-bind", 2), [["/usr", "/usr"], ["/dev/null", "/proc/sysrq-trigger"], ...READ_ONLY.map((path) => [path, path]), [RELAYS, RELAYS]]);
  assert.ok(args.lastIndexOf("--ro-bind") > args.indexOf("--bind"), "the relays' read-only bind comes after (over) the writable jail dir");
  assert.equal(mounts(args, "--symlink", 2), [["usr/bin", "/bin"], ["usr/lib64", "/lib64"]]);
  assert.equal(mounts(args, "--bind", 2), [[JAIL, JAIL]], "nothing else is writable, and not the run dir itself");
  assert.equal(mounts(args, "--dev", 1), [["/dev"]]);
  assert.equal(mounts(args, "--proc", 1), [["/proc"]]);
  for (const flag of ["--dev-bind", "--bind-try", "--ro-bind-try", "--dev-bind-try"]) assert.equal(mounts(args, flag, 2), [], flag);
  assert.equal(mounts(args, "--tmpfs", 1), PROC.dirs.map((dir) => [dir]), "a tmpfs only over /proc's settings");
  assert.not.ok(mounts(args, "--ro-bind", 2).some(([source]) => source === "/" || source === "/etc" || source === RUN));
});

test("bwrapArgs remounts the root read-only after every bind, then runs the command after --", () => {
  const args = jailArgs();
  const remount = args.lastIndexOf("--remount-ro");
  assert.equal(args.slice(remount, remount + 2), ["--remount-ro", "/"]);
  assert.ok(remount > args.lastIndexOf("--bind") && remount > args.lastIndexOf("--ro-bind") && remount > args.lastIndexOf("--symlink"));
  assert.equal(args.slice(args.indexOf("--")), ["--", "/opt/gvproxy", "-config", "/stage/gvproxy.yaml"]);
});

test("bwrapArgs refuses an empty command", () => {
  assert.throws(() => jailArgs([]), /needs a command/);
});

const help = spawnSync("bwrap", ["--help"], { encoding: "utf8" });
if (help.status === 0) {
  test("every flag the jail uses is one this machine's bwrap knows", () => {
    for (const flag of [...jailArgs(), ...jailArgs(undefined, AS_ROOT)].filter((arg) => arg.startsWith("--") && arg !== "--")) {
      assert.ok(new RegExp(`^\\s+${flag}\\b`, "m").test(help.stdout), `bwrap --help does not list ${flag}`);
    }
  });
} else {
  skipSuite("jail-args (bwrap flags)", `\`bwrap --help\` did not run: ${requireTools(["bwrap"]) ?? help.error?.message ?? `exit ${help.status}`}`);
}

// --- relay-inside's command line and socket paths ----------------------------

test("parseRelayInsideArgs reads the run dir, each port, the user to become and the command", () => {
  const parsed = parseRelayInsideArgs(["--run", RUN, "--port", "4101", "--port", "4102", "--", "gvproxy", "--", "-x"]);
  assert.equal(parsed, { ok: true, args: { runDir: RUN, ports: [4101, 4102], command: ["gvproxy", "--", "-x"] } });
  const asRoot = parseRelayInsideArgs(["--run", RUN, "--port", "4101", "--lifeline", "5", "--user", "65534:65534", "--", "gvproxy"]);
  assert.equal(asRoot, { ok: true, args: { runDir: RUN, ports: [4101], lifeline: 5, user: { uid: 65534, gid: 65534 }, command: ["gvproxy"] } });
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
    [["--run", RUN, "--port", "5", "--user", "0:0", "--", "x"], /not <uid>:<gid> \(neither 0\)/],
    [["--run", RUN, "--port", "5", "--user", "65534", "--", "x"], /not <uid>:<gid>/],
    [["--run", RUN, "--port", "5", "--lifeline", "2", "--", "x"], /not a descriptor above 2/],
  ];
  for (const [argv, error] of cases) {
    const parsed = parseRelayInsideArgs(argv);
    assert.is(parsed.ok, false, argv.join(" "));
    if (!parsed.ok) assert.match(parsed.error, error);
  }
});

test("parseRelayInsideArgs takes a lifeline only as a whole descriptor number above 2, and a user only as two whole non-zero ids", () => {
  const base = ["--run", RUN, "--port", "5"];
  for (const fd of ["3", "9", "10", "100", "1023"]) {
    assert.equal(parseRelayInsideArgs([...base, "--lifeline", fd, "--", "x"]), { ok: true, args: { runDir: RUN, ports: [5], lifeline: Number(fd), command: ["x"] } }, fd);
  }
  for (const fd of ["0", "1", "2", "03", "-3", "3x", "x3", "1e1", " 4"]) {
    const parsed = parseRelayInsideArgs([...base, "--lifeline", fd, "--", "x"]);
    assert.is(parsed.ok, false, `--lifeline ${fd}`);
  }
  assert.equal(parseRelayInsideArgs([...base, "--user", "1000:1001", "--", "x"]), { ok: true, args: { runDir: RUN, ports: [5], user: { uid: 1000, gid: 1001 }, command: ["x"] } });
  for (const user of ["01:1", "x1:1", "-1:1", "0:65534", "1:1x", "1:1:0", "65534:0", "1:01"]) {
    const parsed = parseRelayInsideArgs([...base, "--user", user, "--", "x"]);
    assert.is(parsed.ok, false, `--user ${user}`);
  }
});

test("jailLayout keeps gvproxy's files and the relays in <run>/jail, and the machine's socket link outside it", () => {
  assert.equal(jailLayout(RUN), {
    dir: JAIL,
    gvproxySocket: `${JAIL}/gvproxy.sock`,
    gvproxyPid: `${JAIL}/gvproxy.pid`,
    gvproxyLog: `${JAIL}/gvproxy.log`,
    relayDir: `${JAIL}/relays`,
    hostGvproxySocket: `${RUN}/gvproxy.sock`,
  });
});

test("the run dir's length check measures the longest socket the jail layout makes", () => {
  assert.is(relative(RUN, relaySocketPath(RUN, 65535)), LONGEST_SOCKET_IN_RUN_DIR);
});

test("relaySocketPath puts each port's socket under <run>/jail/relays and refuses paths over 107 bytes", () => {
  assert.is(relaySocketPath(RUN, 4101), `${JAIL}/relays/4101.sock`);
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
  assert.ok(lines.includes('(allow network-outbound (remote unix-socket (subpath "/Users/me/.run/demo/jail")))'));
  assert.ok(lines.includes('(allow network-bind network-inbound (local unix-socket (subpath "/Users/me/.run/demo/jail")))'));
  assert.not.match(profile, /"\/Users\/me\/\.run\/demo"/, "the run dir itself (control.sock) is not allowed");
});

test("sandboxProfile has no blanket network allow: every network allow names a sidecar port or the jail dir", () => {
  const profile = sandboxProfile({ runDir: "/tmp/bottle-501/demo", ports: [4101] });
  const allows = profile.split("\n").filter((line) => /^\(allow [^)]*network/.test(line));
  assert.ok(allows.length > 0);
  for (const line of allows) {
    assert.match(line, /\(remote tcp "localhost:4101"\)|unix-socket \(subpath "(\/private)?\/tmp\/bottle-501\/demo\/jail"\)/, line);
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

test("sandboxProfile is exactly: allow by default, deny the network, then the sidecar ports and the jail dir under both spellings", () => {
  assert.is(
    sandboxProfile({ runDir: "/tmp/bottle-501/demo", ports: [4101] }),
    [
      "(version 1)",
      "(allow default)",
      "(deny network*)",
      '(allow network-outbound (remote tcp "localhost:4101"))',
      '(allow network-bind network-inbound (local unix-socket (subpath "/tmp/bottle-501/demo/jail")))',
      '(allow network-bind network-inbound (local unix-socket (subpath "/private/tmp/bottle-501/demo/jail")))',
      '(allow network-outbound (remote unix-socket (subpath "/tmp/bottle-501/demo/jail")))',
      '(allow network-outbound (remote unix-socket (subpath "/private/tmp/bottle-501/demo/jail")))',
      "",
    ].join("\n"),
  );
});

test("sandboxPaths adds the /private spelling only for /tmp, /var and /etc themselves or below them, not for a dir of that name elsewhere", () => {
  assert.equal(sandboxPaths("/tmp"), ["/tmp", "/private/tmp"]);
  assert.equal(sandboxPaths("/etc/"), ["/etc", "/private/etc"]);
  assert.equal(sandboxPaths("/Users/me/tmp/run"), ["/Users/me/tmp/run"]);
  assert.equal(sandboxPaths("/Users/me/var"), ["/Users/me/var"]);
});

test("sandboxProfile escapes the run dir as an S-expression string", () => {
  assert.is(sbplString('/Users/me/we"ird\\dir'), '"/Users/me/we\\"ird\\\\dir"');
  const profile = sandboxProfile({ runDir: '/Users/me/a"b) (allow network*', ports: [4101] });
  assert.ok(profile.includes('(subpath "/Users/me/a\\"b) (allow network*/jail")'));
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

test("classifyBwrapFailure says a bwrap without --disable-userns is too old, and which version to get", () => {
  const { reason, fix } = classifyBwrapFailure("bwrap: Unknown option --disable-userns\n");
  assert.match(reason, /too old for the jail \(bwrap said: bwrap: Unknown option --disable-userns\)/);
  assert.is(fix, BWRAP_UPGRADE_FIX);
  assert.match(fix, /0\.8\.0 or later/);
});

test("classifyBwrapFailure passes any other failure on with bwrap's own words", () => {
  const { reason, fix } = classifyBwrapFailure("bwrap: Can't find source path /nope: No such file or directory\n");
  assert.match(reason, /probe failed \(bwrap said: bwrap: Can't find source path \/nope/);
  assert.not.match(fix, /sysctl/);
});

test("classifyBwrapFailure quotes bwrap's first non-empty line, trimmed, or says there was no message", () => {
  assert.is(classifyBwrapFailure("\n  bwrap: oops  \nsecond line\n").reason, "bubblewrap's probe failed (bwrap said: bwrap: oops)");
  assert.is(classifyBwrapFailure("  \n").reason, "bubblewrap's probe failed (bwrap said: no message)");
});

test("the user-namespace fix reads as one sentence list, first step to last", () => {
  assert.match(USERNS_FIX, /^allow unprivileged user namespaces for bwrap: on Ubuntu 23\.10 and later, /);
  assert.match(USERNS_FIX, /; elsewhere check that `sysctl user\.max_user_namespaces` is above 0\. Inside a container, /);
});

test("runProbe reports the probe's exit code and stderr, and a bwrap that cannot start as no code with the reason", async () => {
  assert.equal(await runProbe("/bin/sh", ["-c", "echo 'bwrap: said no' >&2; exit 3"]), { code: 3, stderr: "bwrap: said no\n" });
  const missing = await runProbe("/nonexistent/bwrap", ["--version"]);
  assert.is(missing.code, null);
  assert.match(missing.stderr, /ENOENT/);
});

/** A PATH where only /fake/bin/bwrap exists. */
const onlyFakeBwrap = (path: string): boolean => path === "/fake/bin/bwrap";

test("detectJail on Linux finds bwrap on PATH and probes it with the jail's own flags", async () => {
  const calls: [string, readonly string[]][] = [];
  const run: ProbeRunner = async (command, args) => {
    calls.push([command, args]);
    return { code: 0, stderr: "" };
  };
  const support = await detectJail("linux", { run, pathEnv: "relative/bin:/usr/nothing:/fake/bin", isExecutable: onlyFakeBwrap });
  assert.equal(support, { kind: "bwrap", bwrap: "/fake/bin/bwrap" });
  assert.equal(calls, [["/fake/bin/bwrap", bwrapProbeArgs(jailCredentials(process.getuid!()))]]);
  const probe = bwrapProbeArgs(USERNS, SYSTEM, PROC);
  assert.equal(probe, [...isolationArgs(USERNS), ...rootArgs(SYSTEM, PROC), "--remount-ro", "/", "--", "true"]);
  for (const flag of ["--unshare-user", "--disable-userns", "--unshare-net", "--clearenv"]) assert.ok(probe.includes(flag), flag);
  // Started as root, the probe asks for what root's jail asks for.
  const asRoot: string[][] = [];
  await detectJail("linux", { run: async (command, args) => (asRoot.push([...args]), { code: 0, stderr: "" }), pathEnv: "/fake/bin", isExecutable: onlyFakeBwrap, uid: 0 });
  assert.equal(asRoot, [bwrapProbeArgs(AS_ROOT)]);
  assert.ok(asRoot[0]!.includes("CAP_SETUID") && !asRoot[0]!.includes("--unshare-user"));
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
  const support = await detectJail("linux", { run, pathEnv: "/usr/bin:/bin", isExecutable: () => false });
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
  const present = await detectJail("darwin", { isExecutable: (path) => path === "/usr/bin/sandbox-exec" });
  assert.equal(present, { kind: "sandbox-exec", path: "/usr/bin/sandbox-exec" });
  const missing = await detectJail("darwin", { isExecutable: () => false });
  assert.is(missing.kind, "unavailable");
  const windows = await detectJail("win32");
  assert.is(windows.kind, "unavailable");
  if (windows.kind === "unavailable") assert.match(windows.reason, /win32/);
});

test("bwrapArgs reads each copy from its own descriptor, counting up from 6 (5 is the lifeline)", () => {
  const args = bwrapArgs({ jailDir: JAIL, relayDir: RELAYS, system: SYSTEM, proc: PROC, readOnly: READ_ONLY, copies: ["/stage/a.yaml", "/stage/b.yaml", "/stage/c.yaml"], credentials: USERNS, command: ["/opt/gvproxy"] });
  assert.equal(mounts(args, "--ro-bind-data", 2), [["6", "/stage/a.yaml"], ["7", "/stage/b.yaml"], ["8", "/stage/c.yaml"]]);
});

test("bwrapArgs makes no --dir over a system dir: a copy under /usr gets its own parents only", () => {
  const args = bwrapArgs({ jailDir: JAIL, relayDir: RELAYS, system: SYSTEM, proc: PROC, readOnly: [], copies: ["/usr/share/bottle/gvproxy.yaml"], credentials: USERNS, command: ["/opt/gvproxy"] });
  const dirs = mounts(args, "--dir", 1).map(([dir]) => dir);
  assert.equal(dirs, ["/tmp", "/tmp/bottle-1000", "/usr/share", "/tmp/bottle-1000/demo", "/usr/share/bottle"]);
});

// --- the jail command --------------------------------------------------------

const scripts = { relayScript: "/opt/bottle/relay-inside.js" };

const FILE_SYSTEM: JailFileSystem = { system: SYSTEM, proc: PROC, readOnly: READ_ONLY, copies: COPIES, node: "/opt/node/bin/node", credentials: USERNS };

test("jailCommand on Linux runs bwrap (no launcher between) -> relay-inside -> the inner command, with the jail's own node; the copies are bwrap-process's to open", () => {
  const { command, args, copies } = jailCommand({
    support: { kind: "bwrap", bwrap: "/usr/bin/bwrap" },
    runDir: RUN,
    ports: [4101, 4102],
    inner: ["/opt/gvproxy", "-config", "/stage/gvproxy.yaml"],
    ...scripts,
    fileSystem: FILE_SYSTEM,
  });
  assert.is(command, "/usr/bin/bwrap");
  assert.equal(copies, COPIES);
  assert.equal(args.slice(0, 2), ["--info-fd", "3"]);
  const relay = ["/opt/node/bin/node", scripts.relayScript, "--run", RUN, "--port", "4101", "--port", "4102", "--lifeline", "5", "--", "/opt/gvproxy", "-config", "/stage/gvproxy.yaml"];
  assert.equal(args, bwrapArgs({ jailDir: JAIL, relayDir: RELAYS, system: SYSTEM, proc: PROC, readOnly: READ_ONLY, copies: COPIES, credentials: USERNS, command: relay }));
});

test("jailCommand throws on a jail kind it does not know, rather than returning no command", () => {
  const input = { support: { kind: "chroot" } as never, runDir: RUN, ports: [4101], inner: ["/opt/gvproxy"], ...scripts, fileSystem: FILE_SYSTEM };
  assert.throws(() => jailCommand(input), /chroot/);
});

test("jailCommand for bottle run as root: relay-inside is told to become nobody before it starts anything", () => {
  const { args } = jailCommand({
    support: { kind: "bwrap", bwrap: "/usr/bin/bwrap" },
    runDir: RUN,
    ports: [4101],
    inner: ["/opt/gvproxy"],
    ...scripts,
    fileSystem: { ...FILE_SYSTEM, credentials: AS_ROOT },
  });
  const command = args.slice(args.indexOf("--") + 1);
  assert.equal(command, ["/opt/node/bin/node", scripts.relayScript, "--run", RUN, "--port", "4101", "--lifeline", "5", "--user", "65534:65534", "--", "/opt/gvproxy"]);
  assert.ok(args.includes("CAP_SETUID") && !args.includes("--unshare-user"));
});

test("jailCommand on macOS runs sandbox-exec with the profile, and no relays", () => {
  const { command, args, copies } = jailCommand({
    support: { kind: "sandbox-exec", path: "/usr/bin/sandbox-exec" },
    runDir: RUN,
    ports: [4101],
    inner: ["/opt/gvproxy", "-config", "g.yaml"],
    ...scripts,
  });
  assert.is(command, "/usr/bin/sandbox-exec");
  assert.equal(args, ["-p", sandboxProfile({ runDir: RUN, ports: [4101] }), "/opt/gvproxy", "-config", "g.yaml"]);
  assert.equal(copies, []);
});

test("jailCommand refuses an empty inner command, bad ports, a relative command and a bwrap jail without its file system", () => {
  const base = { support: { kind: "bwrap", bwrap: "/usr/bin/bwrap" } as const, runDir: RUN, ...scripts, fileSystem: FILE_SYSTEM };
  assert.throws(() => jailCommand({ ...base, ports: [4101], inner: [] }), /no command/);
  assert.throws(() => jailCommand({ ...base, ports: [65536], inner: ["/x"] }), /not a port/);
  assert.throws(() => jailCommand({ ...base, ports: [4101], inner: ["gvproxy"] }), /gvproxy must be an absolute path/);
  const { fileSystem: _, ...without } = base;
  assert.throws(() => jailCommand({ ...without, ports: [4101], inner: ["/x"] }), /needs its file system/);
});

// --- what the jail's file system holds ----------------------------------------

test("nodeInstallDir is <prefix> for a Node install's <prefix>/bin/node, else the binary alone (never a home dir)", () => {
  const dir = tempDir("bottle-jail-node-");
  const install = join(dir, "versions", "node", "v20.11.0");
  mkdirSync(join(install, "bin"), { recursive: true });
  mkdirSync(join(install, "include", "node"), { recursive: true });
  assert.is(nodeInstallDir(join(install, "bin", "node")), install);
  // A home dir with a bin/node in it is not an install: only the binary goes in.
  const home = join(dir, "home");
  mkdirSync(join(home, "bin"), { recursive: true });
  assert.is(nodeInstallDir(join(home, "bin", "node")), join(home, "bin", "node"));
  assert.is(nodeInstallDir("/bin/node"), "/bin/node");
  assert.is(nodeInstallDir("/opt/node-x/node"), "/opt/node-x/node");
});

test("systemMounts keeps each system dir as it is on this host: a real dir, or a symlink with its target", () => {
  const found = systemMounts();
  assert.ok(found.length > 0);
  for (const mount of found) {
    assert.ok((SYSTEM_DIRS as readonly string[]).includes(mount.path), mount.path);
    const stat = lstatSync(mount.path);
    if (mount.kind === "symlink") assert.is(mount.target, readlinkSync(mount.path));
    else assert.ok(stat.isDirectory() && !stat.isSymbolicLink(), mount.path);
  }
  assert.ok(found.some((mount) => mount.path === "/usr" && mount.kind === "dir"));
});

test("jailFileSystem binds node, bottle's dist, package.json and node_modules and the named files by real path, skipping what /usr already holds", () => {
  const dir = tempDir("bottle-jail-fs-");
  const root = join(dir, "pkg");
  for (const sub of ["dist", "node_modules", ".git"]) mkdirSync(join(root, sub), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}");
  const gvproxy = join(dir, "gvproxy");
  writeFileSync(gvproxy, "");
  const linked = join(dir, "gvproxy-link");
  symlinkSync(gvproxy, linked);
  const config = join(dir, "gvproxy.yaml");
  writeFileSync(config, "");
  const fs = jailFileSystem({ nodePath: process.execPath, files: [linked, "/usr/bin/env"], copies: [config], root, system: [{ kind: "dir", path: "/usr" }], uid: 1000 });
  const node = realpathSync(process.execPath);
  assert.is(fs.node, node);
  assert.equal(fs.copies, [realpathSync(config)]);
  assert.equal(fs.credentials, { kind: "userns" });
  assert.equal(jailFileSystem({ nodePath: process.execPath, files: [], root, uid: 0 }).credentials, AS_ROOT);
  const expected = [join(root, "dist"), join(root, "node_modules"), join(root, "package.json"), gvproxy];
  if (!node.startsWith("/usr/")) expected.push(nodeInstallDir(node));
  assert.equal(fs.readOnly, expected.map((path) => realpathSync(path)).sort());
  assert.not.ok(fs.readOnly.includes(root), "not the whole package: a checkout holds .git and more");
});

test("the kernel interfaces the jail covers in /proc are exactly these (written out here, not read from the module)", () => {
  assert.equal(PROC_COVER_CANDIDATES, {
    dirs: ["/proc/sys", "/proc/irq", "/proc/bus", "/proc/pressure", "/proc/acpi", "/proc/fs", "/proc/scsi", "/proc/driver"],
    files: ["/proc/sysrq-trigger", "/proc/mtrr"],
  });
});

test("systemMounts keeps only directories and symlinks: a file or a socket at a system path is not mounted", () => {
  const dir = tempDir("bottle-jail-sys-");
  const file = join(dir, "lib64");
  writeFileSync(file, "");
  const real = join(dir, "usr");
  mkdirSync(real);
  assert.equal(systemMounts([file, real, join(dir, "missing")]), [{ kind: "dir", path: real }]);
});

test("jailFileSystem leaves out of its own binds a file under any one of several system dirs (a host without merged /usr)", () => {
  const dir = tempDir("bottle-jail-fs2-");
  const root = join(dir, "pkg");
  mkdirSync(join(root, "dist"), { recursive: true });
  writeFileSync(join(root, "package.json"), "{}");
  const sbin = join(dir, "sbin");
  mkdirSync(sbin);
  const tool = join(sbin, "tool");
  writeFileSync(tool, "");
  const fs = jailFileSystem({ nodePath: process.execPath, files: [tool], root, system: [{ kind: "dir", path: "/usr" }, { kind: "dir", path: realpathSync(sbin) }], uid: 1000 });
  assert.not.ok(fs.readOnly.includes(realpathSync(tool)), "already in the jail by its system dir");
  assert.ok(fs.readOnly.includes(realpathSync(join(root, "dist"))));
});

test("jailScripts points at the compiled relay-inside.js", () => {
  const { relayScript } = jailScripts();
  assert.match(relayScript, /\/jail\/relay-inside\.js$/);
  assert.ok(existsSync(relayScript));
});

test.run();
