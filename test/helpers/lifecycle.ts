// Driving the real bottle CLI through its lifecycle (launch, resume, stop,
// ls, rm) against the contract fakes, and checking that nothing is left
// behind afterwards. Every wait is on a real signal (a hang marker, a line
// of output, a process exit), bounded by a timeout only as a safety net.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { type Exit, exitOf, fakesBinDir, readMachines, waitForFile } from "./fakes.js";
import { tempDir } from "./tmp.js";

/** dist/src/cli/main.js, next to this compiled helper's dist/test/helpers. */
export const BOTTLE_MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** The host variable every test project's agent.secrets points at, and its value. */
export const SECRET_VAR = "LIFECYCLE_TEST_TOKEN";
export const SECRET_VALUE = `canary-${process.pid}-7d1e0c5a9b`;

/** XDG dirs shared by the projects of one test file (one registry, one runtime dir). */
export interface Home {
  root: string;
  XDG_CACHE_HOME: string;
  XDG_STATE_HOME: string;
  XDG_RUNTIME_DIR: string;
}

/** Directly under os.tmpdir(), so the run dir's socket paths stay short. */
export function makeHome(): Home {
  const root = tempDir("bl-");
  const home = { root, XDG_CACHE_HOME: join(root, "c"), XDG_STATE_HOME: join(root, "s"), XDG_RUNTIME_DIR: join(root, "r") };
  for (const dir of [home.XDG_CACHE_HOME, home.XDG_STATE_HOME, home.XDG_RUNTIME_DIR]) mkdirSync(dir, { mode: 0o700 });
  return home;
}

export interface Project {
  name: string;
  dir: string;
  home: Home;
  stageDir: string;
  runDir: string;
  /** The smolvm machine: bottle-<name>. */
  machine: string;
  /** FAKES_STATE for the next runs; `freshFakes` replaces it, so each scenario has its own. */
  fakes: string;
}

export type ConfigObject = Record<string, unknown>;

/** A valid config: a workspace, one secret by reference, an agent that prints a line. */
export function baseConfig(name: string): ConfigObject {
  return {
    name,
    image: "alpine:3",
    agent: { command: ["sh", "-c", "echo hi"], env: { GREETING: "hello" }, secrets: { TOKEN: { fromEnv: SECRET_VAR } } },
    workspace: { host: "./ws", guest: "/workspace" },
    egress: { allow: ["example.com"] },
  };
}

export function writeProjectConfig(project: Project, config: ConfigObject): void {
  writeFileSync(join(project.dir, "bottle.config.ts"), `export default ${JSON.stringify(config, null, 2)};\n`);
}

export function makeProject(name: string, options: { home?: Home; config?: ConfigObject } = {}): Project {
  const dir = tempDir("bp-");
  mkdirSync(join(dir, "ws"));
  const home = options.home ?? makeHome();
  const project: Project = {
    name,
    dir,
    home,
    stageDir: join(dir, ".bottle", name),
    runDir: join(home.XDG_RUNTIME_DIR, "bottle", name),
    machine: `bottle-${name}`,
    fakes: tempDir("bf-"),
  };
  writeProjectConfig(project, options.config ?? baseConfig(name));
  return project;
}

/** A new, empty FAKES_STATE for the project's next runs (a fresh fake smolvm DB too). */
export function freshFakes(project: Project): string {
  project.fakes = tempDir("bf-");
  return project.fakes;
}

export interface RunOptions {
  /** Extra variables (FAKE_FAIL, FAKE_HANG, ...). */
  env?: Record<string, string>;
  /** Replaces PATH entirely (default: the fakes, then this process's PATH). */
  path?: string;
  /** Another FAKES_STATE than the project's current one. */
  fakes?: string;
  /** Where to run bottle (default: the project dir). */
  cwd?: string;
  /** Its own process group, as a terminal's foreground job: `signalGroup` then reaches bottle and its non-detached children. */
  group?: boolean;
  /** Descriptors of this process bottle gets open at those numbers, as a shell that ran it may leave them: { 40: fd }. */
  inherit?: Record<number, number>;
}

// Every FAKES_STATE and run dir a bottle ran with: if a test fails before
// its cleanup, whatever it left is killed when the test file exits.
const used = { fakes: new Set<string>(), runDirs: new Set<string>() };
process.on("exit", () => {
  for (const fakes of used.fakes) {
    for (const leftover of liveProcesses(fakes, [...used.runDirs])) {
      try {
        process.kill(leftover.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
});

export function bottleEnv(project: Project, options: RunOptions = {}): NodeJS.ProcessEnv {
  used.fakes.add(options.fakes ?? project.fakes);
  used.runDirs.add(project.runDir);
  const path = options.path ?? `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
  return {
    PATH: [gvproxyInjection(options.env), path].filter(Boolean).join(":"),
    HOME: project.home.root,
    CI: "1",
    NO_COLOR: "1",
    XDG_CACHE_HOME: project.home.XDG_CACHE_HOME,
    XDG_STATE_HOME: project.home.XDG_STATE_HOME,
    XDG_RUNTIME_DIR: project.home.XDG_RUNTIME_DIR,
    FAKES_STATE: options.fakes ?? project.fakes,
    [SECRET_VAR]: SECRET_VALUE,
    // A replaced PATH is the whole world: not even bottle's .tools/bin.
    ...(options.path === undefined ? {} : { BOTTLE_TOOLS_DIR: "" }),
    ...options.env,
  };
}

/**
 * gvproxy runs in the jail with an empty environment, so FAKE_FAIL and
 * FAKE_HANG cannot reach the fake by inheritance: when either names gvproxy,
 * a gvproxy script that carries them (and the path to the fake, which the
 * jail has through bottle's dist) goes first on PATH.
 */
function gvproxyInjection(env: Record<string, string> = {}): string | undefined {
  const carried = (["FAKE_FAIL", "FAKE_HANG"] as const).filter((name) => (env[name] ?? "").split(",").includes("gvproxy"));
  if (carried.length === 0) return undefined;
  const dir = tempDir("bg-");
  const fake = fileURLToPath(new URL("../fixtures/fakes/gvproxy.js", import.meta.url));
  const exports = carried.map((name) => `export ${name}=gvproxy\n`).join("");
  writeFileSync(join(dir, "gvproxy"), `#!/bin/sh\n${exports}exec ${realpathSync(process.execPath)} ${fake} "$@"\n`, { mode: 0o755 });
  return dir;
}

export interface RunningBottle {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Settles when bottle has exited and its pipes are closed. */
  exit: Promise<Exit>;
  /** Settles when the bottle process itself has exited (children it left may still hold its pipes). */
  exited: Promise<void>;
  /** Resolves once `text` has appeared on stderr; rejects if bottle exits first. */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `bottle ...args` in the project dir. SIGKILLed after `timeoutMs` so a broken test cannot hang. */
export function startBottle(project: Project, args: readonly string[], options: RunOptions = {}, timeoutMs = 90_000): RunningBottle {
  // A marker left by an earlier scenario would make waitForMarker return before this run hangs.
  for (const step of (options.env?.FAKE_HANG ?? "").split(",").filter(Boolean)) {
    const marker = hangMarker({ ...project, fakes: options.fakes ?? project.fakes }, step);
    if (existsSync(marker)) throw new Error(`${marker} is left from an earlier run: call freshFakes(project) first`);
  }
  const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe"];
  for (const [at, fd] of Object.entries(options.inherit ?? {})) {
    while (stdio.length < Number(at)) stdio.push("ignore");
    stdio[Number(at)] = fd;
  }
  const child = spawn(process.execPath, [BOTTLE_MAIN, ...args], {
    cwd: options.cwd ?? project.dir,
    env: bottleEnv(project, options),
    stdio,
    detached: options.group ?? false,
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const check of [...waiters]) check();
  });
  const exit = exitOf(child, () => ({ stdout, stderr }), timeoutMs, () => {
    for (const check of [...waiters]) check();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (child.pid === undefined) throw new Error("could not start bottle");
  const waitForStderr = (text: string | RegExp, ms = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const seen = (): boolean => (typeof text === "string" ? stderr.includes(text) : text.test(stderr));
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${String(text)} on stderr; got:\n${stderr}`)), ms);
      const check = (): void => {
        if (seen()) finish();
        else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`bottle exited before printing ${String(text)}:\n${describe({ code: child.exitCode, signal: child.signalCode, stdout, stderr })}`));
      };
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      waiters.add(check);
      check();
    });
  return { child, pid: child.pid, stdout: () => stdout, stderr: () => stderr, exit, exited, waitForStderr };
}

export function runBottle(project: Project, args: readonly string[], options: RunOptions = {}): Promise<Exit> {
  return startBottle(project, args, options).exit;
}

/** A row of `bottle ls --json`. */
export interface LsRow {
  name: string;
  state: string;
  why?: string;
  subnet: string;
  ports: Record<string, number>;
  pid: number | null;
  stage: string;
  config: string;
}

export async function lsJson(project: Project): Promise<LsRow[]> {
  const run = await runBottle(project, ["ls", "--json"]);
  assert.is(run.code, 0, describe(run));
  return JSON.parse(run.stdout) as LsRow[];
}

/** "exit 1\n--- stdout ...\n--- stderr ..." for assertion messages. */
export function describe(run: Exit): string {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ""}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The hang marker a FAKE_HANG step writes (gvproxy's sits next to its pid file, in the run dir's jail/). */
export function hangMarker(project: Project, step: string): string {
  const name = step.replace(/@once$/, "");
  if (name === "gvproxy") return join(project.runDir, "jail", "hang-gvproxy");
  return join(project.fakes, "hang", name.replace(":", "-"));
}

/** Waits for a hang marker; fails at once (with bottle's output) if bottle exits first. */
export async function waitForMarker(run: RunningBottle, path: string, timeoutMs = 60_000): Promise<void> {
  let exited = false;
  const early = run.exit.then((exit) => {
    exited = true;
    return exit;
  });
  await Promise.race([
    waitForFile(path, timeoutMs),
    early.then((exit) => {
      if (!existsSync(path)) throw new Error(`bottle exited before ${path} appeared:\n${describe(exit)}`);
    }),
  ]);
  if (exited && !existsSync(path)) throw new Error(`bottle exited before ${path} appeared`);
}

// --- what is left behind ---------------------------------------------------

export interface LiveProcess {
  pid: number;
  cmdline: string;
  why: string;
}

function readProc(pid: string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** Dead, or as good as: a zombie (this container's pid 1 does not reap), or SIGKILL already pending. */
function gone(pid: string): boolean {
  const status = readProc(pid, "status");
  if (status === undefined) return true;
  const state = /^State:\s+(\S)/m.exec(status)?.[1];
  if (state === "Z" || state === "X") return true;
  const SIGKILL_BIT = 1n << 8n;
  for (const field of ["SigPnd", "ShdPnd"]) {
    const mask = new RegExp(`^${field}:\\s+([0-9a-f]+)`, "m").exec(status)?.[1];
    if (mask && (BigInt(`0x${mask}`) & SIGKILL_BIT) !== 0n) return true;
  }
  return false;
}

/** Inodes of the unix sockets (in this network namespace) bound under one of `dirs`. */
function socketInodes(dirs: readonly string[]): Set<string> {
  const inodes = new Set<string>();
  let table = "";
  try {
    table = readFileSync("/proc/net/unix", "utf8");
  } catch {
    return inodes;
  }
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [inode, path] = [fields[6], fields[7]];
    if (inode && path && dirs.some((dir) => path.startsWith(`${dir}/`))) inodes.add(inode);
  }
  return inodes;
}

/**
 * Every live process that belongs to this scenario: its environment holds
 * FAKES_STATE=<fakes> (the fakes, bubblewrap, relay-inside, gvproxy,
 * pipelock, smolvm calls and bottle itself all inherit it), its command line
 * names one of `dirs`, or it holds a unix socket bound under one of them
 * (the fake VM, which starts with an empty environment, listens under
 * FAKES_STATE).
 */
export function liveProcesses(fakes: string, dirs: readonly string[] = []): LiveProcess[] {
  const marker = `FAKES_STATE=${fakes}`;
  const all = [fakes, ...dirs];
  const inodes = socketInodes(all);
  const found: LiveProcess[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(pid) || Number(pid) === process.pid || gone(pid)) continue;
    const cmdline = (readProc(pid, "cmdline") ?? "").split("\0").join(" ").trim();
    let why: string | undefined;
    if ((readProc(pid, "environ") ?? "").split("\0").includes(marker)) why = "FAKES_STATE in its environment";
    else if (all.some((dir) => cmdline.includes(dir))) why = "names the scenario's dirs on its command line";
    else if (inodes.size) {
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        // gone meanwhile
      }
      for (const fd of fds) {
        let target = "";
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const inode = /^socket:\[([0-9]+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) {
          why = "holds a unix socket bound in the scenario's dirs";
          break;
        }
      }
    }
    if (why && !gone(pid)) found.push({ pid: Number(pid), cmdline, why });
  }
  return found;
}

export type MachineExpectation = "absent" | "stopped" | "running" | "any";

/**
 * The leftovers check run after every scenario: no process of this scenario
 * alive, no run dir (no sockets, no record), and the machine as expected in
 * the fake smolvm's database.
 */
export function assertNoLeftovers(project: Project, machine: MachineExpectation, context = ""): void {
  const prefix = context ? `${context}: ` : "";
  const alive = liveProcesses(project.fakes, [project.runDir]);
  assert.equal(
    alive.map((p) => `${p.pid} ${p.cmdline} (${p.why})`),
    [],
    `${prefix}processes left alive`,
  );
  assert.not.ok(existsSync(project.runDir), `${prefix}the run dir ${project.runDir} is still there: ${existsSync(project.runDir) ? readdirSync(project.runDir).join(", ") : ""}`);
  const record = readMachines(project.fakes)[project.machine];
  if (machine === "any") return;
  if (machine === "absent") assert.is(record, undefined, `${prefix}machine ${project.machine} should not exist, it is ${record?.state}`);
  else assert.is(record?.state, machine, `${prefix}machine ${project.machine} should be ${machine}`);
}

/** The smolvm subcommands called, e.g. ["status", "create", "start", "exec", "status", "stop"]. */
export function smolvmVerbs(calls: readonly { argv: string[] }[]): string[] {
  return calls.map((c) => c.argv[1] ?? c.argv[0] ?? "");
}

/** Every file under `root` (absolute paths), following no symlinks. */
export function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** A bin dir holding only symlinks to `names` (looked up on this process's PATH or in the fakes). */
export function binDirWith(names: readonly string[]): string {
  const dir = tempDir("bb-");
  for (const name of names) {
    const fake = join(fakesBinDir, name);
    const target = existsSync(fake) ? fake : which(name);
    symlinkSync(target, join(dir, name));
  }
  return dir;
}

function which(name: string): string {
  if (name === "node") return process.execPath;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not on PATH`);
}
