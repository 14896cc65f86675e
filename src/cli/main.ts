#!/usr/bin/env node
// bottle's executable. It closes the descriptors it inherited (none of its
// children may get them), then loads the CLI: run-cli.ts and what it
// imports, bundled by `npm run build` (scripts/bundle-cli.mjs) into one
// file, which Node loads far faster than a hundred modules. Node's compile
// cache is turned on later, once bottle knows it is safe (config/cache.ts,
// enableCompileCache).
import { closeInheritedDescriptors } from "../lib/inherited-descriptors.js";

closeInheritedDescriptors();

await import(new URL("../cli-bundle/run-cli.js", import.meta.url).href);
