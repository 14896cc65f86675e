// The backend registry (the seed's _BACKENDS). Backends load lazily, so
// naming one costs nothing until it is used.
import { usageError } from "../lib/errors.js";
import type { Backend } from "./types.js";

const BACKENDS: Record<string, () => Promise<Backend>> = {
  smolmachines: async () => (await import("./smolmachines/backend.js")).smolmachines,
};

export const BACKEND_ENV = "BOTTLE_BACKEND";

export function backendNames(): string[] {
  return Object.keys(BACKENDS).sort();
}

/** The backend to use: BOTTLE_BACKEND overrides the config's choice. */
export function chooseBackendName(configured: string, env: NodeJS.ProcessEnv = process.env): { name: string; source: string } {
  const fromEnv = env[BACKEND_ENV];
  return fromEnv ? { name: fromEnv, source: `${BACKEND_ENV}=${fromEnv}` } : { name: configured, source: "the config's `backend`" };
}

export async function loadBackend(name: string, source = "backend"): Promise<Backend> {
  const load = BACKENDS[name];
  if (!load) throw usageError(`unknown backend \`${name}\` (from ${source}); known backends: ${backendNames().join(", ")}`);
  return load();
}
