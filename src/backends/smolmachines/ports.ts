// One 127.0.0.1 port per active sidecar, kept stable across resumes while the
// port is still usable.
import { createServer } from "node:net";

export interface AllocatePortsOptions {
  /** Active sidecar names, in order (pipelock first). */
  sidecars: readonly string[];
  /** The ports the last run chose, by sidecar name. */
  previous: Readonly<Record<string, number>> | null;
  /** Ports the running bottle's own sidecars hold: busy, but still ours. */
  heldByUs?: readonly number[];
  isFree?: (port: number) => Promise<boolean>;
  allocate?: () => Promise<number>;
}

/** How many fresh ports to try before giving up on finding an unused one. */
const MAX_ALLOCATION_ATTEMPTS = 64;

export async function allocatePorts(opts: AllocatePortsOptions): Promise<Record<string, number>> {
  const isFree = opts.isFree ?? isPortFree;
  const allocate = opts.allocate ?? allocateLoopbackPort;
  const heldByUs = new Set(opts.heldByUs ?? []);
  const ports: Record<string, number> = {};
  const taken = new Set<number>();

  // Keep every still-usable previous port first, so a sidecar that needs a
  // new port can never be handed one another sidecar is about to keep.
  for (const name of opts.sidecars) {
    const port = opts.previous?.[name];
    if (port === undefined || taken.has(port)) continue;
    if (heldByUs.has(port) || (await isFree(port))) {
      ports[name] = port;
      taken.add(port);
    }
  }

  for (const name of opts.sidecars) {
    if (ports[name] !== undefined) continue;
    const port = await allocateUnused(allocate, (p) => taken.has(p) || heldByUs.has(p));
    ports[name] = port;
    taken.add(port);
  }

  // Rebuild in the caller's order: the first pass may have filled keys out of it.
  return Object.fromEntries(opts.sidecars.map((name) => [name, ports[name] as number]));
}

async function allocateUnused(
  allocate: () => Promise<number>,
  isUnavailable: (port: number) => boolean,
): Promise<number> {
  for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
    const port = await allocate();
    if (!isUnavailable(port)) return port;
  }
  throw new Error(
    `could not allocate an unused loopback port in ${MAX_ALLOCATION_ATTEMPTS} attempts`,
  );
}

/** True when 127.0.0.1:port can be bound right now. */
export function isPortFree(port: number): Promise<boolean> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.resolve(false);
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Bind 127.0.0.1:0, read the port the kernel chose, release it. Another
 * process can still take the port before the sidecar binds it: whoever starts
 * the sidecar has to expect a busy port.
 */
export function allocateLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("bound 127.0.0.1:0 but got no TCP port back"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
