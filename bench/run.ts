// `npm run bench`: every benchmark suite, one after the other. Reports only;
// nothing here asserts on time.
import { runEngineBench } from "./engine.js";

function heading(title: string): void {
  console.log(`\n== ${title} ==\n`);
}

heading("Build-graph engine vs GNU make");
await runEngineBench();
