// Host side of the jail's relays: a unix socket per sidecar port at
// <runDir>/jail/relays/<P>.sock, each connection carried to 127.0.0.1:P, or
// to the unix socket a sidecar listens on instead (the git gate). The jail
// sees that directory read-only (bwrapArgs binds it so, over the writable
// jail dir), so it cannot swap a socket or the directory itself.
import { chmod, lstat, rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { makePrivateSubdir } from "../../../lib/private-dir.js";
import { pipeBoth } from "./pipe-both.js";
import { isPort, jailLayout, relaySocketPath } from "./jail-layout.js";

export interface HostRelays {
  /** One socket path per port, in the order given. */
  sockets: string[];
  /** The connections carried now, each side counted: a finished one is forgotten, so a long run does not pile them up. */
  readonly liveConnections: number;
  /** Stops listening, drops live connections and removes the socket files. */
  close(): Promise<void>;
}

export interface HostRelaysInput {
  runDir: string;
  ports: readonly number[];
  /** A port whose sidecar listens on a unix socket: its connections go to that path, not to 127.0.0.1. */
  unixTargets?: Readonly<Record<number, string>>;
}

/** Removes a socket left by an earlier run; anything else at the path is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (stat === undefined) return;
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  await rm(path, { force: true });
}

function listenOnSocket(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true }, onConnection);
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

export async function startHostRelays({ runDir, ports, unixTargets = {} }: HostRelaysInput): Promise<HostRelays> {
  for (const port of ports) if (!isPort(port)) throw new Error(`relay port ${port} is not a port (1-65535)`);
  const sockets = ports.map((port) => relaySocketPath(runDir, port));
  const dir = jailLayout(runDir).relayDir;
  // In the jail dir, fresh for each launch (prepareJailDir) and not yet seen by a jail; checked all the same.
  makePrivateSubdir(dir);

  const servers: Server[] = [];
  const listening: string[] = [];
  const live = new Set<Socket>();
  const track = (socket: Socket): void => {
    live.add(socket);
    socket.once("close", () => live.delete(socket));
  };

  const close = async (): Promise<void> => {
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of live) socket.destroy();
    await Promise.all(closed);
    await Promise.all(listening.map((path) => rm(path, { force: true })));
  };

  try {
    for (const [index, port] of ports.entries()) {
      const path = sockets[index] as string;
      await removeStaleSocket(path);
      const server = await listenOnSocket(path, (client) => {
        const target = unixTargets[port];
        const sidecar = target === undefined ? createConnection({ host: "127.0.0.1", port, allowHalfOpen: true }) : createConnection({ path: target, allowHalfOpen: true });
        track(client);
        track(sidecar);
        pipeBoth(client, sidecar);
      });
      servers.push(server);
      listening.push(path);
      await chmod(path, 0o600);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    sockets,
    close,
    get liveConnections() {
      return live.size;
    },
  };
}
