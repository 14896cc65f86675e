// The namespace machine's "VM": a detached host process that starts the
// guest (bubblewrap: new network namespace with only `lo`, new mount, PID,
// IPC and UTS namespaces) and holds a control socket whose greeting,
// `nsvm-vm NAME PID GUEST_PID`, tells exec which process to enter. SIGTERM,
// or the control socket's removal, kills the guest's PID 1 and with it every
// guest process.
// Usage (by the namespace machine only): node vm.js NAME SOCKET SPEC_JSON LOG
import { existsSync, readFileSync, rmSync, openSync } from "node:fs";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { whenGone } from "../fixtures/fakes/when-gone.js";
import { guestFsArgs, type GuestFsSpec } from "./guest-fs.js";

const [name = "", socketPath = "", specPath = "", logPath = ""] = process.argv.slice(2);
process.title = `nsvm-vm ${name}`;
process.stdout.on("error", () => undefined);

const spec = JSON.parse(readFileSync(specPath, "utf8")) as GuestFsSpec;
const log = openSync(logPath, "a");
const bwrap = spawn(
  "bwrap",
  [
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--hostname",
    name.slice(0, 63),
    "--die-with-parent",
    "--info-fd",
    "3",
    ...guestFsArgs(spec),
    "--",
    "sleep",
    "infinity",
  ],
  { stdio: ["ignore", log, log, "pipe"], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } },
);

let guestPid = 0;
function shutdown(code = 0): never {
  if (guestPid > 0) {
    try {
      process.kill(guestPid, "SIGKILL"); // PID 1 of the guest: the kernel ends the rest
    } catch {
      // already gone
    }
  }
  rmSync(socketPath, { force: true });
  process.exit(code);
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => shutdown());
bwrap.on("exit", () => shutdown(guestPid > 0 ? 0 : 1));

let info = "";
const infoPipe = bwrap.stdio[3] as NodeJS.ReadableStream;
infoPipe.on("data", (chunk: Buffer) => {
  info += chunk.toString();
  const match = /"child-pid":\s*([0-9]+)/.exec(info);
  if (!match || guestPid > 0) return;
  guestPid = Number(match[1]);
  listen();
});

function listen(): void {
  rmSync(socketPath, { force: true });
  const server = createServer((connection) => {
    connection.on("error", () => undefined);
    connection.write(`nsvm-vm ${name} ${process.pid} ${guestPid}\n`);
  });
  server.listen(socketPath, () => {
    whenGone(socketPath, shutdown);
    process.stdout.write("ready\n");
  });
}
