// Attacks on the run dir (issue 9, point 1). With XDG_RUNTIME_DIR unset the
// run dir is /tmp/bottle-<uid>/<name>, and /tmp is everyone's:
// - another user makes /tmp/bottle-<victim uid> first, with <name> a symlink
//   to a directory of the victim's: `bottle rm` must delete nothing there,
//   `stop` and `ls` must not read it, and each says why;
// - the same user plants a supervisor.json whose `children` copy a live
//   process of the victim's: `bottle stop` must not kill it;
// - a run dir level that is the victim's own but group/other-writable is
//   refused too;
// - even in a private run dir, a forged record naming a live unrelated
//   process (same pid and start time) does not get it killed: only a process
//   provably started by the recorded launcher is.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { skipSuite } from "./helpers/skip.js";
import { fakesBinDir, isAlive, type Exit } from "./helpers/fakes.js";
import { BOTTLE_MAIN, describe, makeProject, runBottle } from "./helpers/lifecycle.js";
import { tempDir } from "./helpers/tmp.js";
import { makeUser, otherUsersUnavailable, runAs, type LocalUser } from "./helpers/users.js";
import { processStartTime } from "../src/lib/proc.js";

const unavailable = otherUsersUnavailable();
if (unavailable) {
  skipSuite("attack-run-dir", unavailable);
  process.exit(0);
}

const slug = `dirs-run-${process.pid}`;
const victim = makeUser("dirsv");
const attacker = makeUser("dirsa");
const shared = `/tmp/bottle-${victim.uid}`;
const runDir = join(shared, slug);
process.on("exit", () => rmSync(shared, { recursive: true, force: true }));

/** The victim's home: a registry entry for `slug` (as a launch writes it), its stage, and a directory of precious files. */
function victimHome(): { env: NodeJS.ProcessEnv; precious: string; preciousFiles: string[]; registryEntry: string } {
  rmSync(shared, { recursive: true, force: true });
  const home = tempDir("bvh-");
  const project = join(home, "p");
  const stage = join(project, ".bottle", slug);
  mkdirSync(stage, { recursive: true, mode: 0o700 });
  writeFileSync(join(project, "bottle.config.ts"), `export default { name: "${slug}", image: "alpine:3", agent: { command: ["true"] } };\n`);
  writeFileSync(join(stage, "bottle.json"), JSON.stringify({ format: "bottle-stage", slug }));
  writeFileSync(join(stage, "state.json"), JSON.stringify({ format: "bottle-graph-state", version: 1, tasks: {}, files: {}, failures: {} }));
  // Named like what bottle keeps in a run dir, so a bottle that followed the link would take them for its own.
  const precious = join(home, "precious");
  mkdirSync(join(precious, "relays"), { recursive: true });
  for (const name of ["supervisor.json", "gvproxy.log", "thesis.tex", "relays/4000.sock"]) writeFileSync(join(precious, name), `precious ${name}\n`);
  const registry = join(home, "s", "bottle", "bottles");
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  const registryEntry = join(registry, `${slug}.json`);
  writeFileSync(
    registryEntry,
    JSON.stringify({ slug, backend: "smolmachines", configPath: join(project, "bottle.config.ts"), stageDir: stage, runDir, octet: 42, writable: [], updatedAt: 1 }),
  );
  const fakes = join(home, "f");
  mkdirSync(fakes);
  spawnSync("chown", ["-R", `${victim.uid}:${victim.gid}`, home]);
  chmodSync(home, 0o700);
  const env = { PATH: `${fakesBinDir}:/usr/bin:/bin`, HOME: home, XDG_STATE_HOME: join(home, "s"), XDG_CACHE_HOME: join(home, "c"), FAKES_STATE: fakes, CI: "1", NO_COLOR: "1" };
  return { env, precious, preciousFiles: ["gvproxy.log", "relays", "supervisor.json", "thesis.tex"], registryEntry };
}

function asAttacker(command: string, ...args: string[]): void {
  const done = spawnSync(command, args, { uid: attacker.uid, gid: attacker.gid, encoding: "utf8" });
  assert.is(done.status, 0, `${command} ${args.join(" ")} as ${attacker.name}: ${done.stderr}`);
}

function bottleAs(user: LocalUser, env: NodeJS.ProcessEnv, args: string[]): Promise<Exit> {
  return runAs(user, process.execPath, [BOTTLE_MAIN, ...args], { env });
}

/** A long sleep of the victim's, in its own process group: the process a forged record names. */
function victimProcess(as: LocalUser | null): ChildProcess {
  const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore", ...(as ? { uid: as.uid, gid: as.gid } : {}) });
  child.unref();
  process.on("exit", () => child.kill("SIGKILL"));
  return child;
}

/** A pid that was a process and is gone. */
function deadPid(): number {
  const done = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(done.stdout.trim());
}

test("another user's /tmp/bottle-<uid> with <name> → the victim's directory: rm --yes, stop and ls touch nothing there, and say why", async () => {
  const { env, precious, preciousFiles, registryEntry } = victimHome();
  asAttacker("mkdir", "-m", "0755", shared);
  asAttacker("ln", "-s", precious, runDir);

  const rm = await bottleAs(victim, env, ["rm", slug, "--yes"]);
  assert.is(rm.code, 2, describe(rm));
  assert.match(rm.stderr, `refusing to use the run dir ${runDir}: ${shared} belongs to uid ${attacker.uid}, not to you (uid ${victim.uid})`);
  assert.match(rm.stderr, `nothing was deleted for \`${slug}\``);
  assert.equal(readdirSync(precious).sort(), preciousFiles, "the victim's files are all there");
  assert.is(readFileSync(join(precious, "supervisor.json"), "utf8"), "precious supervisor.json\n");
  assert.ok(existsSync(registryEntry), "the registry entry is kept");

  const stop = await bottleAs(victim, env, ["stop", slug]);
  assert.is(stop.code, 2, describe(stop));
  assert.match(stop.stderr, `${shared} belongs to uid ${attacker.uid}`);

  const ls = await bottleAs(victim, env, ["ls", "--json"]);
  assert.is(ls.code, 0, describe(ls));
  const [row] = JSON.parse(ls.stdout) as { name: string; state: string; why: string }[];
  assert.is(row?.state, "refused", ls.stdout);
  assert.match(row?.why ?? "", `${shared} belongs to uid ${attacker.uid}`);
  assert.equal(readdirSync(precious).sort(), preciousFiles);
  rmSync(shared, { recursive: true, force: true });
});

test("another user's supervisor.json naming a live process of the victim's (its pid and start time): stop refuses and kills nothing", async () => {
  const { env } = victimHome();
  const sleeper = victimProcess(victim);
  const record = {
    pid: deadPid(),
    pidStartTime: "1",
    slug,
    stageDir: "/nonexistent",
    configPath: "/nonexistent/bottle.config.ts",
    octet: 42,
    ports: {},
    children: { pipelock: { pid: sleeper.pid!, startTime: processStartTime(sleeper.pid!) } },
    startedAt: Date.now(),
    control: join(runDir, "control.sock"),
  };
  asAttacker("mkdir", "-m", "0755", shared);
  asAttacker("mkdir", "-m", "0755", runDir);
  asAttacker("sh", "-c", `cat > ${join(runDir, "supervisor.json")} <<'EOF'\n${JSON.stringify(record)}\nEOF`);

  for (const args of [["stop", slug], ["rm", slug, "--yes"]]) {
    const run = await bottleAs(victim, env, args);
    assert.is(run.code, 2, describe(run));
    assert.match(run.stderr, `${shared} belongs to uid ${attacker.uid}`);
    assert.ok(isAlive(sleeper.pid!), `bottle ${args.join(" ")} killed the process the forged record named`);
  }
  sleeper.kill("SIGKILL");
  rmSync(shared, { recursive: true, force: true });
});

test("the victim's own run dir levels, made group- or other-writable, are refused", async () => {
  const { env, registryEntry } = victimHome();
  for (const [mode, level] of [
    [0o777, shared],
    [0o770, runDir],
  ] as const) {
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    spawnSync("chown", ["-R", `${victim.uid}:${victim.gid}`, shared]);
    chmodSync(level, mode);
    const rm = await bottleAs(victim, env, ["rm", slug, "--yes"]);
    assert.is(rm.code, 2, describe(rm));
    assert.match(rm.stderr, `${level} has mode 0${mode.toString(8)}`);
    assert.ok(existsSync(registryEntry));
    rmSync(shared, { recursive: true, force: true });
  }
});

test("in a private run dir, a forged record naming a live unrelated process (pid and start time copied) does not get it killed by stop or rm", async () => {
  const project = makeProject("dirs-forged");
  const sleeper = victimProcess(null);
  const record = {
    pid: deadPid(),
    pidStartTime: "1",
    slug: project.name,
    stageDir: project.stageDir,
    configPath: join(project.dir, "bottle.config.ts"),
    octet: 42,
    ports: {},
    children: { pipelock: { pid: sleeper.pid!, startTime: processStartTime(sleeper.pid!) } },
    startedAt: Date.now(),
    control: join(project.runDir, "control.sock"),
  };
  mkdirSync(project.runDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(project.runDir, "supervisor.json"), JSON.stringify(record));
  const registry = join(project.home.XDG_STATE_HOME, "bottle", "bottles");
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(registry, `${project.name}.json`),
    JSON.stringify({ slug: project.name, backend: "smolmachines", configPath: record.configPath, stageDir: project.stageDir, runDir: project.runDir, octet: 42, writable: [], updatedAt: 1 }),
  );

  const stop = await runBottle(project, ["stop", project.name]);
  assert.is(stop.code, 0, describe(stop));
  assert.match(stop.stdout, `left pid ${sleeper.pid} (recorded as pipelock) alone: nothing proves it is this bottle's`);
  assert.not.match(stop.stdout, "killed leftover");
  assert.ok(isAlive(sleeper.pid!), "bottle stop killed the unrelated process the forged record named");

  writeFileSync(join(project.runDir, "supervisor.json"), JSON.stringify(record));
  const rm = await runBottle(project, ["rm", project.name, "--yes"]);
  assert.not.match(rm.stdout, "killed leftover", describe(rm));
  assert.ok(isAlive(sleeper.pid!), "bottle rm killed the unrelated process the forged record named");
  sleeper.kill("SIGKILL");
});

test.run();
