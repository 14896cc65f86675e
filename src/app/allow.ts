// `bottle allow NAME HOST`: adds HOST to egress.allow in the config the
// bottle was launched from (its registry entry names it), as `bottle
// blocked` suggests. The config is checked as every command checks one
// before evaluating it (never one a guest could have written), and edited
// by config/allow-host.ts.
import { dirname } from "node:path";
import { allowHostInConfig, type AllowOutcome } from "../config/allow-host.js";
import { egressHostProblem } from "../config/egress-host.js";
import { stageDir } from "../backends/smolmachines/stage-dir.js";
import { usageError } from "../lib/errors.js";
import { shellQuote } from "../lib/shell-quote.js";
import { findRegisteredBottle } from "./find-bottle.js";
import { statusOf } from "./lifecycle.js";
import { listBottles, workspacesOf, type BottleEntry } from "./registry.js";
import { refusePlantedConfig } from "./session.js";

/** HOST as egress.allow takes it (trimmed, lowercase); a usage error when egress.allow would refuse it. */
export function allowableHost(raw: string): string {
  const host = raw.trim().toLowerCase();
  const problem = egressHostProblem(host);
  if (problem) throw usageError(`\`${host}\` cannot go in egress.allow: it ${problem}`);
  return host;
}

export interface AllowResult {
  entry: BottleEntry;
  outcome: AllowOutcome;
  /** Whether the bottle runs now (asked after the edit). */
  running(): Promise<boolean>;
}

/** Adds `host` (from allowableHost) to the config bottle `name` was launched from. */
export async function allowInBottle(name: string, host: string, warn: (message: string) => void): Promise<AllowResult> {
  const found = await findRegisteredBottle(name, {});
  const { entry } = found;
  const bottles = listBottles();
  // As every command that runs a config: never one a guest could have written, nor what it imports from there.
  refusePlantedConfig(entry.configPath, bottles);
  const outcome = await allowHostInConfig(entry.configPath, host, { slug: entry.slug, load: { guardedDirs: workspacesOf(bottles), warn } });
  return { entry, outcome, running: async () => (await statusOf(found)).state === "running" };
}

/** The config and, when it is not the default one, the stage the bottle was launched with. */
function where(entry: BottleEntry): string {
  const custom = entry.stageDir !== stageDir(dirname(entry.configPath), entry.slug);
  return `--config ${shellQuote(entry.configPath)}${custom ? ` --stage ${shellQuote(entry.stageDir)}` : ""}`;
}

export const watchCommand = (entry: BottleEntry): string => `bottle watch ${where(entry)}`;
export const policyCommand = (entry: BottleEntry): string => `bottle policy ${where(entry)}`;
