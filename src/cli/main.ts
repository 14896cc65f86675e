#!/usr/bin/env node
// bottle's executable. It closes the descriptors it inherited (none of its
// children may get them), then loads the CLI: run-cli.ts and what it
// imports, bundled by `npm run build` (scripts/bundle-cli.mjs) into one
// file, which Node loads far faster than a hundred modules. Node's compile
// cache is turned on later, once bottle knows it is safe (config/cache.ts,
// enableCompileCache).
import { setFlagsFromString } from "node:v8";
import { closeInheritedDescriptors } from "../lib/inherited-descriptors.js";

// A launcher stays up, one per bottle, as long as its agent runs. V8 grows
// its young generation from 1 to 16 MiB a half during start-up's burst of
// allocation and never gives it back; these commands keep it at its first
// size (about 5 MiB less per bottle, measured by bench/many-bottles).
const LONG_RUNNING = new Set(["launch", "resume"]);
if (LONG_RUNNING.has(process.argv[2] ?? "")) setFlagsFromString("--semi-space-growth-factor=1");

closeInheritedDescriptors();

await import(new URL("../cli-bundle/run-cli.js", import.meta.url).href);
