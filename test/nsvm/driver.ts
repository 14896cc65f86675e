// The namespace machine's VmDriver: machines are real Linux namespaces (see
// vm.ts), and exec enters them with nsenter and runs the command as root
// with the terminal passed through.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toolStateDir } from "../fixtures/fakes/lib/state.js";
import type { MachineRecord } from "../fixtures/fakes/smolvm/db.js";
import type { ExecCommand, VmDriver } from "../fixtures/fakes/smolvm/driver.js";
import { SmolvmError } from "../fixtures/fakes/smolvm/errors.js";
import { bootVm, probeVm, probeVmGreeting, stopVm, vmSocketPath } from "../fixtures/fakes/smolvm/vm-control.js";
import type { GuestFsSpec } from "./guest-fs.js";

const vmScript = fileURLToPath(new URL("./vm.js", import.meta.url));
const GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function socketOf(name: string): string {
  return vmSocketPath(toolStateDir("smolvm"), name);
}

function guestDir(name: string): string {
  return join(toolStateDir("smolvm"), "guests", name);
}

/** The guest's environment: a base like an image's, then the Smolfile's env and secrets, then `exec -e`. */
function guestEnv(machine: MachineRecord, cmd: ExecCommand): Record<string, string> {
  const env: Record<string, string> = { PATH: GUEST_PATH, HOME: "/root", HOSTNAME: machine.name };
  if (process.env.TERM) env.TERM = process.env.TERM;
  const assign = (entry: string): void => {
    const eq = entry.indexOf("=");
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  };
  machine.env.forEach(assign);
  for (const [name, ref] of Object.entries(machine.secrets)) {
    // checkSecrets ran first: from_env values are set; from_file is not used by bottle.
    if ("from_env" in ref) env[name] = process.env[ref.from_env] ?? "";
  }
  cmd.env.forEach(assign);
  return env;
}

function runGuestCommand(guestPid: number, workdir: string, argv: readonly string[], env: Record<string, string>): Promise<number> {
  const child = spawn(
    "nsenter",
    ["--target", String(guestPid), "--mount", "--net", "--pid", "--uts", "--ipc", "--", "/bin/sh", "-c", 'cd -- "$1" || exit 126; shift; exec "$@"', "nsvm-exec", workdir, ...argv],
    { stdio: "inherit", env },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, forward(signal));
  return new Promise((resolve, reject) => {
    child.on("error", (error) => reject(new SmolvmError(`exec: cannot run nsenter: ${error.message}`)));
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? osSignal(signal) : 0)));
  });
}

function osSignal(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

export const namespaceDriver: VmDriver = {
  version: "bottle namespace machine 1 (Linux namespaces standing in for a microVM; implements the smolvm CLI subset bottle uses)",
  async boot(machine) {
    if (process.getuid?.() !== 0) {
      throw new SmolvmError("the namespace machine needs root: it makes network, mount and PID namespaces and enters them with nsenter");
    }
    const dir = guestDir(machine.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const spec: GuestFsSpec = { volumes: machine.volumes, sockets: machine.mount_sockets, resolvConf: join(dir, "resolv.conf") };
    writeFileSync(spec.resolvConf, "");
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    return bootVm(machine.name, socketOf(machine.name), vmScript, [join(dir, "spec.json"), join(dir, "vm.log")]);
  },
  probe: (name) => probeVm(socketOf(name)),
  halt: (name) => stopVm(socketOf(name), name),
  forget(name) {
    rmSync(socketOf(name), { force: true });
    rmSync(guestDir(name), { recursive: true, force: true });
  },
  async exec(machine, cmd) {
    const greeting = await probeVmGreeting(socketOf(machine.name));
    const guestPid = Number(greeting?.extra[0]);
    if (!greeting || !(guestPid > 0)) throw new SmolvmError(`machine '${cmd.name}' is not running`);
    return runGuestCommand(guestPid, cmd.workdir ?? machine.workdir ?? "/", cmd.argv, guestEnv(machine, cmd));
  },
};
