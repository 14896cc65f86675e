// A stand-in for bottle as the parent of bwrap, for suites that need the
// jail under a process of its own (to run it as another user, inside a
// keyring session, with an inherited descriptor, or to kill -9 its parent):
//   node jail-parent.js '{"command": …, "args": […], "copies": […]}'
// Like bottle's CLI, it first closes what it inherited (src/cli/main.ts),
// then starts bwrap with spawnBwrap() and routes SIGTERM, SIGINT and SIGHUP
// through it, as the supervisor routes a stop. It exits with bwrap's status
// (128 + a signal's number).
import { constants } from "node:os";
import { closeInheritedDescriptors } from "../../src/lib/inherited-descriptors.js";
import { spawnBwrap } from "../../src/backends/smolmachines/jail/bwrap-process.js";
import { errorMessage } from "../../src/lib/errors.js";

closeInheritedDescriptors();
const { command, args, copies } = JSON.parse(process.argv[2] ?? "{}") as { command: string; args: string[]; copies: string[] };
let bwrap: ReturnType<typeof spawnBwrap>;
try {
  bwrap = spawnBwrap(command, args, { copies, stdout: "inherit", stderr: "inherit" });
} catch (error) {
  process.stderr.write(`jail-parent: ${errorMessage(error)}\n`);
  process.exit(1);
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => bwrap.signal(signal));
void bwrap.exited.then(({ code, signal, spawnError }) => {
  if (spawnError !== undefined) {
    process.stderr.write(`jail-parent: ${spawnError}\n`);
    process.exit(127);
  }
  process.exit(code ?? 128 + (constants.signals[signal ?? "SIGKILL"] ?? 0));
});
