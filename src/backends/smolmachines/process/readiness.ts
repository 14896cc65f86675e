// Waiting for a child to become ready, on the real signal: a port or a unix
// socket that accepts a connection, or a file that appears. Each wait also ends
// early when the child exits, and after a deadline.
import { existsSync, readdirSync, readFileSync, readlinkSync, watch } from "node:fs";
import { allPids, processGroup } from "../../../lib/proc.js";
import { connect } from "node:net";
import { basename, dirname } from "node:path";
import { BottleError } from "../../../lib/errors.js";
import type { ExitInfo } from "./supervisor.js";

/** A child that did not become ready: it exited first (`exited`), or the wait ran out (null). */
function notReady(message: string, exited: ExitInfo | null): BottleError<"not-ready"> {
  return new BottleError("not-ready", message, { detail: { exited } });
}

type Target = { host: string; port: number } | { path: string };

function tryConnect(target: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  exited?: Promise<ExitInfo>;
  what: string;
  signal?: AbortSignal;
}

/** Resolves once 127.0.0.1:port accepts a connection. */
export function waitForPort(port: number, options: WaitOptions): Promise<void> {
  return waitUntilAccepts({ host: "127.0.0.1", port }, `127.0.0.1:${port}`, options, Date.now() + options.timeoutMs);
}

/**
 * Resolves once the unix socket at `path` accepts a connection (gvproxy's
 * readiness). The file appears at bind(), a moment before listen(), so its
 * existence alone is not the signal.
 */
export async function waitForSocket(path: string, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  await waitForPath(path, options);
  await waitUntilAccepts({ path }, path, options, deadline);
}

async function waitUntilAccepts(target: Target, where: string, options: WaitOptions, deadline: number): Promise<void> {
  let exit: ExitInfo | null = null;
  void options.exited?.then((info) => (exit = info));
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    options.signal?.throwIfAborted();
    if (await tryConnect(target)) return;
    if (exit) throw notReady(`${options.what} exited (${describeExit(exit)}) before ${where} accepted connections`, exit);
    if (Date.now() >= deadline) throw notReady(`${options.what} did not accept connections on ${where} within ${options.timeoutMs} ms`, null);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Resolves once `path` exists. */
export function waitForPath(path: string, options: WaitOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    if (existsSync(path)) return resolve();
    const onAbort = (): void => finish(options.signal!.reason instanceof Error ? options.signal!.reason : new Error("interrupted"));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      watcher.close();
      options.signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve();
    };
    const watcher = watch(dirname(path), (_event, name) => {
      if ((name === null || name === basename(path)) && existsSync(path)) finish();
    });
    const timer = setTimeout(() => finish(notReady(`${options.what} did not create ${path} within ${options.timeoutMs} ms`, null)), options.timeoutMs);
    void options.exited?.then((exit) => {
      if (existsSync(path)) finish();
      else finish(notReady(`${options.what} exited (${describeExit(exit)}) before creating ${path}`, exit));
    });
    options.signal?.addEventListener("abort", onAbort);
    // The file may have appeared between the first check and the watch.
    if (existsSync(path)) finish();
  });
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** Inodes of the TCP sockets listening on `port` (any local address, IPv4 and IPv6); null without /proc. */
function listeningInodes(port: number): Set<string> | null {
  const inodes = new Set<string>();
  let readable = false;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; st 0A is LISTEN; inode is the 10th field.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A" && fields[9]) inodes.add(fields[9]);
    }
  }
  return readable ? inodes : null;
}

/**
 * Linux: whether what listens on 127.0.0.1:port belongs to the process group
 * `pgid` (a child started in its own group, with whatever it forked). A
 * connection that succeeds proves only that someone listens: another process
 * that took the port first would pass for the sidecar, and the guest's
 * traffic would go to it. null when /proc cannot tell (not Linux).
 */
export function listenerInGroup(port: number, pgid: number): boolean | null {
  const inodes = listeningInodes(port);
  if (inodes === null || inodes.size === 0) return null;
  for (const pid of allPids()) {
    if (processGroup(pid) !== pgid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[([0-9]+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && inodes.has(inode)) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}
