// The bottles on this machine: one small record per bottle under the XDG
// state dir, pointing at its config, stage and run dirs. `ls` reads it;
// launch writes it; `rm` removes it.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./graph/index.js";
import { registryDir } from "./paths.js";

export interface BottleEntry {
  slug: string;
  backend: string;
  configPath: string;
  stageDir: string;
  runDir: string;
  /** The subnet's third octet (shown by `ls`; bottles may share it: each network is private to its jail). */
  octet: number;
  updatedAt: number;
}

export function registerBottle(entry: BottleEntry, env: NodeJS.ProcessEnv = process.env): void {
  const dir = registryDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, `${entry.slug}.json`), JSON.stringify(entry, null, 2));
}

export function listBottles(env: NodeJS.ProcessEnv = process.env): BottleEntry[] {
  const dir = registryDir(env);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return [];
  }
  const entries: BottleEntry[] = [];
  for (const name of names) {
    try {
      entries.push(JSON.parse(readFileSync(join(dir, name), "utf8")) as BottleEntry);
    } catch {
      // A torn or foreign file is not a bottle.
    }
  }
  return entries;
}

export function findBottle(slug: string, env: NodeJS.ProcessEnv = process.env): BottleEntry | null {
  return listBottles(env).find((e) => e.slug === slug) ?? null;
}

export function unregisterBottle(slug: string, env: NodeJS.ProcessEnv = process.env): void {
  rmSync(join(registryDir(env), `${slug}.json`), { force: true });
}
