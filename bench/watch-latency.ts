// Watch mode: time from a config save to the re-rendered smolfile.toml being
// on disk, next to a fresh `bottle build` process doing the same re-render.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { median } from "./measure.js";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

function config(value: string): string {
  return `export default { name: "bench", image: "alpine:3", agent: { command: ["sh"], env: { A: ${JSON.stringify(value)} } }, workspace: { host: "./ws", guest: "/workspace" } };\n`;
}

type Line = Record<string, unknown>;

/** Lines from the watcher, and a way to wait for the next one that matches. */
function lineWaiter(stream: NodeJS.ReadableStream) {
  const waiting: { match: (line: Line) => boolean; resolve: (at: number) => void }[] = [];
  createInterface({ input: stream }).on("line", (text) => {
    const at = performance.now();
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      return;
    }
    const index = waiting.findIndex((w) => w.match(line));
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(at);
  });
  return (match: (line: Line) => boolean): Promise<number> => new Promise((resolve) => waiting.push({ match, resolve }));
}

export async function runWatchBench(edits = 15): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bottle-bench-watch-"));
  mkdirSync(join(dir, "ws"));
  const configPath = join(dir, "bottle.config.ts");
  const smolfile = join(dir, ".bottle", "bench", "smolfile.toml");
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), XDG_STATE_HOME: join(dir, "state"), CI: "1" };
  writeFileSync(configPath, config("0"));
  try {
    const watcher = spawn(process.execPath, [cli, "watch", "--json", "--config", configPath], { env, stdio: ["ignore", "pipe", "inherit"] });
    const next = lineWaiter(watcher.stdout);
    await next((l) => l.event === "state" && l.state === "idle");

    const watched: number[] = [];
    for (let i = 1; i <= edits; i++) {
      const rendered = next((l) => l.event === "task" && l.task === "smolfile.toml" && l.status === "ran");
      const idle = next((l) => l.event === "state" && l.state === "idle");
      const saved = performance.now();
      writeFileSync(configPath, config(`w${i}`));
      watched.push((await rendered) - saved);
      await idle;
      if (!readFileSync(smolfile, "utf8").includes(`A=w${i}`)) throw new Error(`watch did not render edit ${i}`);
    }
    watcher.kill("SIGINT");
    await new Promise((resolve) => watcher.on("exit", resolve));

    const fresh: number[] = [];
    for (let i = 1; i <= edits; i++) {
      writeFileSync(configPath, config(`b${i}`));
      const started = performance.now();
      const build = spawnSync(process.execPath, [cli, "build", "--json", "--config", configPath], { env, stdio: ["ignore", "ignore", "pipe"] });
      fresh.push(performance.now() - started);
      if (build.status !== 0 || !readFileSync(smolfile, "utf8").includes(`A=b${i}`)) throw new Error(`build did not render edit ${i}: ${build.stderr}`);
    }

    const w = median(watched);
    const f = median(fresh);
    console.log(`watch: save → smolfile.toml on disk     ${w.toFixed(1).padStart(8)} ms (median of ${edits} edits, debounce included)`);
    console.log(`fresh \`bottle build\` process, same edit ${f.toFixed(1).padStart(8)} ms (median of ${edits})`);
    console.log(`\nwatch is ${(f / w).toFixed(1)}x faster than a fresh build process (target: at least 5x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
