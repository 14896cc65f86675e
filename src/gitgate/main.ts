// The git gate, a host-side sidecar:  node main.js [<where>]  with its options in
// BOTTLE_GIT_GATE (options.ts), each remote's upstream token and the
// agent's secret values in BOTTLE_GIT_GATE_* variables. It prepares each
// remote's mirror, then serves git's smart HTTP on a unix socket (mode
// 0600, in a 0700 directory: only the bottle's own relay, which runs as
// the same user, can connect) or, without a jail relay, on 127.0.0.1.
// Exit codes: 2 for a missing token or bad options, 1 when it cannot start.
// Entry script: node: imports only (and siblings that obey the same rule).
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync } from "node:fs";
import type { Server } from "node:net";
import { fileURLToPath } from "node:url";
import { isolatedGitEnv } from "./git-env.js";
import { gateLog } from "./log.js";
import { mirrorDir, prepareMirror } from "./mirror.js";
import { readGateOptions, secretsFromEnv, type GateListen } from "./options.js";
import { needlesFor } from "./secret-needles.js";
import { createGateServer } from "./server.js";
import { errorMessage } from "../lib/errors.js";

function exitWith(message: string, code: number): never {
  process.stderr.write(`git-gate: ${message}\n`);
  process.exit(code);
}

/** Removes a socket an earlier gate left; anything else at the path is refused. */
function clearStaleSocket(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) exitWith(`${path} exists and is not a socket; refusing to replace it`, 1);
  rmSync(path, { force: true });
}

function listen(server: Server, listen: GateListen): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if ("port" in listen) {
      server.listen({ host: "127.0.0.1", port: listen.port, exclusive: true }, () => resolve(`127.0.0.1:${listen.port}`));
      return;
    }
    // Bound under a temporary name, made 0600, then renamed into place: the
    // socket is never connectable at its real path with looser permissions,
    // and its appearance there means the gate is ready.
    clearStaleSocket(listen.socket);
    const temporary = `${listen.socket}.${process.pid}.tmp`;
    clearStaleSocket(temporary);
    server.listen(temporary, () => {
      chmodSync(temporary, 0o600);
      renameSync(temporary, listen.socket);
      resolve(listen.socket);
    });
  });
}

async function main(): Promise<void> {
  let options;
  try {
    options = readGateOptions(process.env);
  } catch (error) {
    exitWith(errorMessage(error), 2);
  }
  for (const remote of options.remotes) {
    if (!process.env[remote.tokenEnv]) exitWith(`no token for remote ${remote.name}: ${remote.tokenEnv} is not set`, 2);
  }
  const tokens = new Map(options.remotes.map((remote) => [remote.name, process.env[remote.tokenEnv]!]));
  const needles = needlesFor(secretsFromEnv(process.env, options.remotes));
  // A gate that cannot keep its record of pushes and refusals does not serve.
  let log;
  try {
    log = gateLog(options.log, needles);
  } catch (error) {
    exitWith(errorMessage(error), 1);
  }
  const git = { program: options.git, env: isolatedGitEnv(process.env.PATH ?? "/usr/bin:/bin", options.dir) };
  const hookEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (key.startsWith("BOTTLE_GIT_GATE")) hookEnv[key] = value;

  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  chmodSync(options.dir, 0o700);
  const hook = { node: process.execPath, script: fileURLToPath(new URL("./pre-receive.js", import.meta.url)) };
  for (const remote of options.remotes) await prepareMirror(mirrorDir(options.dir, remote.name), hook, git);

  const server = createGateServer({ options, git, hookEnv, tokens, needles, log });
  let where: string;
  try {
    where = await listen(server, options.listen);
  } catch (error) {
    exitWith(`cannot listen: ${errorMessage(error)}`, 1);
  }
  for (const remote of options.remotes) {
    log(`serving ${remote.name} (${remote.url}) at /${remote.name}.git; push: ${remote.push.length ? remote.push.join(", ") : "none (fetch only)"}`);
  }
  if (options.gitleaks === null) log("gitleaks was not found: every push will be refused until it is installed (npm run tools)");
  log(`ready on ${where}`);

  const stop = (): void => {
    server.close();
    if ("socket" in options.listen) rmSync(options.listen.socket, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

await main();
