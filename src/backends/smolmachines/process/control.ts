// The running bottle's control socket (<run>/control.sock): `bottle stop`
// and watch mode talk to the launching process through it. One request
// line, one reply line; for `stop` the reply comes once teardown is done.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { chmodSync, rmSync } from "node:fs";
import { errorMessage } from "../../../lib/errors.js";

/** What can be asked of a running launch: to stop (the reply comes once it is torn down), or to reload a sidecar's config. */
export type ControlRequest = { verb: "stop" } | { verb: "reload"; target: string };

/** A request line as a request, or null for one the launch does not know. */
export function parseControlRequest(line: string): ControlRequest | null {
  const [verb, ...rest] = line.trim().split(/\s+/);
  if (verb === "stop" && rest.length === 0) return { verb: "stop" };
  if (verb === "reload" && rest.length > 0) return { verb: "reload", target: rest.join(" ") };
  return null;
}

/** Serves the control socket at `path`: each request goes to `handle`, whose answer is the reply. */
export async function startControlServer(path: string, handle: (request: ControlRequest) => Promise<string>): Promise<{ close(): Promise<void> }> {
  rmSync(path, { force: true });
  // Connections that have not sent a request yet: closing drops them, while
  // one waiting for its reply (a `stop` waiting for teardown) gets it first.
  const idle = new Set<Socket>();
  const server: Server = createServer((socket) => {
    let buffer = "";
    idle.add(socket);
    socket.once("close", () => idle.delete(socket));
    socket.setEncoding("utf8");
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf("\n");
      if (end === -1) return;
      idle.delete(socket);
      const line = buffer.slice(0, end);
      buffer = "";
      const request = parseControlRequest(line);
      const reply = request ? handle(request) : Promise.resolve(`error unknown request ${line.trim()}`);
      reply.then(
        (text) => socket.end(`${text}\n`),
        (error: unknown) => socket.end(`error ${errorMessage(error)}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        // Resolves once every connection has ended, which the pending replies do by themselves.
        server.close(() => resolve());
        for (const socket of idle) socket.destroy();
        rmSync(path, { force: true });
      }),
  };
}

/** Sends one request; resolves with the reply line (waits as long as the bottle takes). */
export function sendControl(path: string, request = "stop", timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${path} within ${Math.round(timeoutMs / 1000)}s`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${request}\n`));
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(reply.trim());
    });
  });
}

/**
 * Resolves once the launcher behind the control socket is gone: an idle
 * connection (no request sent) is dropped when it closes its server at the
 * end of teardown, and by the kernel if it dies. No polling. Also resolves
 * when `signal` aborts, or at once when nothing listens there.
 */
export function untilLauncherGone(path: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const done = (): void => {
      signal.removeEventListener("abort", done);
      socket.destroy();
      resolve();
    };
    socket.on("error", done);
    socket.on("close", done);
    socket.on("end", done);
    if (signal.aborted) done();
    else signal.addEventListener("abort", done);
  });
}
