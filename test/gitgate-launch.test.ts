// The git gate in a real launch (contract fakes for smolvm, gvproxy and
// pipelock; the real bubblewrap jail and relays): it listens on a unix socket
// in the run dir (0600) and on no host port, so another local user cannot
// use it (issue 9, point 10: performed here as another uid, against the
// gate and, for contrast, against pipelock's loopback port, which that user
// can reach); a git client inside the jail's network, configured only by the
// Smolfile's GIT_CONFIG_* variables, clones and pushes through the jail
// relay → host relay → gate → upstream path; `ls --json` and the launch's
// output name each remote, its upstream and the gate's port; the token is
// in no file, output or guest variable; an unset token variable fails the
// launch naming it, before anything starts; with --unsafe-no-jail (no relay)
// the gate falls back to its loopback port and the launch says so.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findTool } from "../src/lib/host-tools.js";
import { fakesBinDir, isAlive, readPipelockEvents } from "./helpers/fakes.js";
import { git, gitOk, makeUpstreamRepo, plainGitEnv, startUpstream } from "./helpers/git-upstream.js";
import {
  assertNoLeftovers,
  baseConfig,
  describe,
  filesUnder,
  freshFakes,
  hangMarker,
  makeProject,
  runBottle,
  startBottle,
  waitForMarker,
} from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";

const TOKEN_VAR = "GITGATE_LAUNCH_TOKEN";
const TOKEN = `gate-token-${process.pid}-5f0c2e91`;
const root = tempDir("gitgate-launch-");
const hostEnv = plainGitEnv(join(root, "home"));
mkdirSync(join(root, "repos"));
const upstreamRepo = makeUpstreamRepo(join(root, "repos"), "app", hostEnv);
const upstream = await startUpstream(join(root, "repos"), TOKEN, hostEnv);
const url = upstream.url("app");

// gitleaks on the launch's PATH (without it every push is refused: gitgate-push proves that).
const GITLEAKS = findTool("gitleaks");
const toolsBin = tempDir("gitgate-bin-");
if (GITLEAKS) symlinkSync(GITLEAKS, join(toolsBin, "gitleaks"));
const PATH = `${fakesBinDir}:${toolsBin}:${process.env.PATH ?? "/usr/bin:/bin"}`;

const project = makeProject("gg-launch", {
  config: { ...baseConfig("gg-launch"), gitGate: { remotes: { origin: { url, token: { fromEnv: TOKEN_VAR }, push: ["agent/*"] } } } },
});

test.after(() => upstream.close());

/** The pids of `pid` and every process under it. */
function descendants(pid: number): number[] {
  const found = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
    for (const child of children ? children.split(" ") : []) found.push(...descendants(Number(child)));
  }
  return found;
}

/** A process inside the jail's network namespace (a descendant of bwrap in another net namespace). */
function jailedPid(jail: number): number {
  const ours = readlinkSync("/proc/self/ns/net");
  const inside = descendants(jail).find((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) !== ours;
    } catch {
      return false;
    }
  });
  if (inside === undefined) throw new Error(`no process of the jail (pid ${jail}) is in another network namespace`);
  return inside;
}

/** Whether `uid` can connect to the unix socket or loopback port: "connected" or the error code. */
function connectAs(uid: number, target: { path: string } | { port: number }): Promise<string> {
  const script = `const s=require("net").connect(${JSON.stringify("path" in target ? { path: target.path } : { host: "127.0.0.1", port: target.port })});s.on("connect",()=>{console.log("connected");process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(0)});`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", script], { uid, gid: uid, cwd: "/", stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("close", () => resolve(out.trim()));
  });
}

function smolfileEnv(): Record<string, string> {
  const smolfile = parse(readFileSync(join(project.stageDir, "smolfile.toml"), "utf8")) as { env: string[] };
  return Object.fromEntries(smolfile.env.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

test("launch: the gate serves the guest's git through the jail relay only; ls and the launch name each remote; the token is nowhere", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { path: PATH, env: { FAKE_HANG: "smolvm:exec", [TOKEN_VAR]: TOKEN } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
  try {

  const ls = await runBottle(project, ["ls", "--json"]);
  const [row] = JSON.parse(ls.stdout) as { ports: Record<string, number>; gitGate: { port: number; remotes: { name: string; upstream: string }[] } | null }[];
  const port = row!.ports.gitGate!;
  assert.equal(row!.gitGate, { port, remotes: [{ name: "origin", upstream: url }] }, ls.stdout);
  assert.match(launcher.stderr(), `git gate: origin → ${url} at proxy.internal:${port}; push: agent/*`);

  // The gate: a 0600 socket in the run dir, and nothing on the host's loopback port.
  const socket = join(project.runDir, "git-gate.sock");
  const stat = lstatSync(socket);
  assert.ok(stat.isSocket());
  assert.is(stat.mode & 0o777, 0o600);
  assert.is(await connectAs(0, { port }), "ECONNREFUSED", "the gate listens on a host port");

  // Another local user: the gate is out of reach; pipelock's TCP port (how every sidecar was reachable before) is not.
  const user = `bt-gitgate-${process.pid}`;
  assert.is(spawnSync("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", user]).status, 0, "useradd failed");
  try {
    const uid = Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());
    assert.ok(uid > 0);
    assert.is(await connectAs(uid, { path: socket }), "EACCES");
    assert.is(await connectAs(uid, { port }), "ECONNREFUSED");
    assert.is(await connectAs(uid, { port: row!.ports.pipelock! }), "connected", "the attacker's own check: a loopback sidecar port is reachable to it");
  } finally {
    spawnSync("userdel", [user]);
  }

  // The guest's git: the Smolfile's variables, with proxy.internal as the jail's loopback (where the relay listens).
  const guest = smolfileEnv();
  assert.is(guest.GIT_CONFIG_COUNT, "1");
  assert.is(guest.GIT_CONFIG_KEY_0, `url.http://proxy.internal:${port}/origin.git.insteadOf`);
  assert.is(guest.GIT_CONFIG_VALUE_0, url);
  assert.is(guest.NO_PROXY, "proxy.internal");
  assert.match(guest.HTTPS_PROXY!, /^http:\/\/proxy\.internal:\d+$/);
  for (const value of Object.values(guest)) assert.not.ok(value.includes(TOKEN), "the token is in the Smolfile's env");
  const record = JSON.parse(readFileSync(join(project.runDir, "supervisor.json"), "utf8")) as { children: Record<string, { pid: number }> };
  const inJail = jailedPid(record.children.jail!.pid);
  const guestEnv = { ...plainGitEnv(join(root, "guest")), GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: guest.GIT_CONFIG_KEY_0!.replace("proxy.internal", "127.0.0.1"), GIT_CONFIG_VALUE_0: url };
  const work = join(root, "work");
  const nsenter = (args: string[], cwd: string) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn("nsenter", ["-t", String(inJail), "-n", "git", ...args], { cwd, env: guestEnv, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code: code ?? 128, stderr }));
    });
  const clone = await nsenter(["clone", "--quiet", url, work], root);
  assert.is(clone.code, 0, clone.stderr);
  assert.is(readFileSync(join(work, "README.md"), "utf8"), "hello\n");
  // The same client on the host, outside the jail, cannot reach the gate at all.
  const outside = await git(["ls-remote", url], root, guestEnv);
  assert.is.not(outside.code, 0);
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", "from the guest"], work, guestEnv);
  const pushed = await nsenter(["push", "origin", "HEAD:refs/heads/agent/one"], work);
  if (GITLEAKS) {
    assert.is(pushed.code, 0, pushed.stderr);
    assert.is(await gitOk(["rev-parse", "refs/heads/agent/one"], upstreamRepo, hostEnv), await gitOk(["rev-parse", "HEAD"], work, guestEnv));
  } else {
    console.log("skipped: gitgate-launch push: no gitleaks binary");
    assert.match(pushed.stderr, "gitleaks is not installed");
  }

  } catch (error) {
    await runBottle(project, ["stop", project.name]);
    throw error;
  }
  const stop = await runBottle(project, ["stop", project.name]);
  assert.is(stop.code, 0, describe(stop));
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  const log = readFileSync(join(project.stageDir, "logs", "git-gate.log"), "utf8");
  assert.match(log, /fetch origin: mirror refreshed/);
  if (GITLEAKS) assert.match(log, /push origin refs\/heads\/agent\/one: accepted/);
  const files = [...filesUnder(project.stageDir), ...filesUnder(project.home.root)];
  assert.ok(files.some((file) => file.endsWith(join("git", "origin.git", "HEAD"))), "the mirror is in the stage dir");
  for (const file of files) assert.not.ok(readFileSync(file).includes(TOKEN), `the token is in ${file}`);
  assert.not.ok(exit.stdout.includes(TOKEN) || exit.stderr.includes(TOKEN), "the token is in bottle's output");
  assertNoLeftovers(project, "stopped");
});

test("a remote's token variable unset: launch fails naming it, before any sidecar starts", async () => {
  freshFakes(project);
  const run = await runBottle(project, ["launch"], { path: PATH, env: { FAKE_HANG: "smolvm:exec" } });
  assert.is(run.code, 1, describe(run));
  assert.match(run.stdout, `gitGate.remotes.origin.token: the host variable ${TOKEN_VAR} is not set`, describe(run));
  assert.equal(readPipelockEvents(project.fakes), [], "pipelock started");
  assert.not.ok(existsSync(join(project.runDir, "git-gate.sock")));
  assertNoLeftovers(project, "any");
});

test("--unsafe-no-jail: no relay, so the gate listens on its loopback port, and the launch says who can reach it", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch", "--unsafe-no-jail"], { path: PATH, env: { FAKE_HANG: "smolvm:exec", [TOKEN_VAR]: TOKEN } });
  try {
    await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
    const port = Number(/git gate: origin → \S+ at proxy\.internal:(\d+)/.exec(launcher.stderr())?.[1]);
    assert.match(launcher.stderr(), `git gate: without the jail's relay it listens on 127.0.0.1:${port}, where every local user can use it`);
    assert.not.ok(existsSync(join(project.runDir, "git-gate.sock")));
    const guestEnv = { ...plainGitEnv(join(root, "guest")), GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `url.http://127.0.0.1:${port}/origin.git.insteadOf`, GIT_CONFIG_VALUE_0: url };
    const ls = await git(["ls-remote", url, "refs/heads/main"], root, guestEnv);
    assert.is(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /refs\/heads\/main/);
  } finally {
    await runBottle(project, ["stop", project.name]);
  }
  const exit = await launcher.exit;
  assert.is(exit.code, 0, describe(exit));
  assertNoLeftovers(project, "stopped");
});

test("a launcher killed with -9 leaves the gate (it holds the token): rm proves it the launcher's and kills it", async () => {
  freshFakes(project);
  const launcher = startBottle(project, ["launch"], { path: PATH, env: { FAKE_HANG: "smolvm:exec", [TOKEN_VAR]: TOKEN } });
  await waitForMarker(launcher, hangMarker(project, "smolvm:exec"));
  const record = JSON.parse(readFileSync(join(project.runDir, "supervisor.json"), "utf8")) as { children: Record<string, { pid: number }> };
  const gate = record.children.gitGate?.pid;
  assert.ok(gate !== undefined && isAlive(gate), "the gate runs");
  launcher.child.kill("SIGKILL");
  await launcher.exited;
  assert.ok(isAlive(gate), "the gate outlives its launcher (it has no parent-death signal)");
  const rm = await runBottle(project, ["rm", project.name, "--yes"], { path: PATH });
  assert.is(rm.code, 0, describe(rm));
  assert.not.ok(isAlive(gate), `the gate (pid ${gate}) was left running: ${rm.stdout}`);
});

test.run();
