#!/usr/bin/env node
// bottle's executable. It closes the descriptors it inherited (none of its
// children may get them), turns on Node's on-disk compile cache (Node
// 22.1+; a no-op on 20) in bottle's own private cache dir, then loads the
// CLI: a no-op build is dominated by loading modules.
import module from "node:module";
import { closeInheritedDescriptors } from "../inherited-descriptors.js";

closeInheritedDescriptors();

const enableCompileCache = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
if (enableCompileCache && process.env.BOTTLE_COMPILE_CACHE !== "0") {
  const { compileCacheDir } = await import("../config/cache.js");
  const dir = compileCacheDir((message) => process.stderr.write(`warning: ${message}\n`));
  try {
    if (dir) enableCompileCache(dir);
  } catch {
    // Only an optimisation.
  }
}

await import("./run-cli.js");
