// A no-op `bottle build --json` on the example config, next to a bare
// `node -e 0`, measured side by side (interleaved) in one run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./measure.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(repo, "dist/src/cli/main.js");

/** Issue 18: a no-op build at most 1.5x a bare Node start. */
const NOOP_TARGET = 1.5;

function time(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`${args.join(" ")} exited ${child.status}: ${child.stderr}`);
  return ms;
}

export async function runCliNoopBench(runs = 21): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "bottle-bench-cli-"));
  const env = { ...process.env, XDG_CACHE_HOME: join(scratch, "cache"), XDG_STATE_HOME: join(scratch, "state"), CI: "1" };
  const build = [cli, "build", "--json", "--config", join(repo, "bottle.config.ts"), "--stage", join(scratch, "stage")];
  try {
    time(build, env); // first build: renders everything and caches the evaluated config
    time(build, env);
    const node: number[] = [];
    const noop: number[] = [];
    const uncached: number[] = [];
    for (let i = 0; i < runs; i++) {
      node.push(time(["-e", "0"], env));
      noop.push(time(build, env));
      if (i % 3 === 0) uncached.push(time(build, { ...env, BOTTLE_CONFIG_CACHE: "0" }));
    }
    const base = median(node);
    const rows: [string, number][] = [
      ["node -e 0", base],
      ["bottle build --json (no-op)", median(noop)],
      ["  same, config cache off", median(uncached)],
    ];
    for (const [name, ms] of rows) console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms   ${(ms / base).toFixed(2)}x`);
    const ratio = median(noop) / base;
    console.log(`\nno-op build / bare node start: ${ratio.toFixed(2)}x (target: at most ${NOOP_TARGET}x, ${ratio <= NOOP_TARGET ? "met" : "MISSED"}); medians of ${runs} interleaved runs`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
