// `npm run bench`: every benchmark suite, one after the other. Reports only;
// nothing here asserts on time.
import { runCliNoopBench } from "./cli-noop.js";
import { runRealLaunchBench } from "./real-launch.js";
import { runEngineBench } from "./engine.js";
import { runWatchBench } from "./watch-latency.js";
import { runManyBottlesBench } from "./many-bottles.js";

function heading(title: string): void {
  console.log(`\n== ${title} ==\n`);
}

heading("Build-graph engine vs GNU make");
await runEngineBench();

heading("No-op `bottle build --json` vs a bare Node start");
await runCliNoopBench();

heading("Watch mode: config save → re-rendered file, vs a fresh `bottle build`");
await runWatchBench();

heading("`bottle launch` on the real network path vs the contract fakes; memory per bottle");
await runRealLaunchBench();

heading("Many bottles at once on one host");
await runManyBottlesBench(process.env.BOTTLE_BENCH_MANY ? process.env.BOTTLE_BENCH_MANY.split(",").map(Number) : undefined);
