#!/usr/bin/env node
// bottle's executable. It closes the descriptors it inherited (none of its
// children may get them), then loads the CLI. Node's compile cache is
// turned on later, once bottle knows it is safe (config/cache.ts,
// enableCompileCache).
import { closeInheritedDescriptors } from "../lib/inherited-descriptors.js";

closeInheritedDescriptors();

await import("./run-cli.js");
