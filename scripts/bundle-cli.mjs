#!/usr/bin/env node
// `npm run build`'s second step: bundles the CLI as tsc compiled it
// (dist/src/cli/run-cli.js and all it imports) into one file,
// dist/src/cli-bundle/run-cli.js, which dist/src/cli/main.js loads. Node 20's
// ES module loader costs about half a millisecond per module, and a no-op
// `bottle build` loaded over a hundred; code splitting still left some
// forty chunks. In one file a module's code runs only when it is first
// imported (esbuild's lazy wrappers), so a command still pays only for the
// code it runs, plus reading the file.
//
// Packages stay outside the bundle. Those bottle imports lazily stay lazy
// imports; the few it imports statically (LOAD_ON_FIRST_USE), and Node's
// built-in modules, would all be loaded first thing from the top of the
// file (some cost milliseconds: child_process, net, crypto), so each is
// required where its first user runs instead (a package from its CommonJS
// build).
//
// The rest of dist/ is left as tsc wrote it: the library a config imports,
// the programs bottle spawns (git gate, injector, jail helpers) and what the
// tests import. The bundle sits at the depth of src/'s own folders, so the
// paths its code computes from import.meta.url (`../index.js`, `../../..`,
// `../config/validate.js`) hold in both; programs are named through
// compiledProgram (src/lib/package-root.ts).
//
// The validator's fingerprint (src/config/validator-fingerprint.ts) is
// computed here, from the files bundled, rather than at every start.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outfile = join(root, "dist/src/cli-bundle/run-cli.js");

/** The packages imported statically; each must have a CommonJS build (a `require` export). */
const LOAD_ON_FIRST_USE = ["zod", "yaml", "smol-toml"];
/**
 * Built-in modules Node has loaded before bottle's first line, or that cost
 * next to nothing: imported as they are. A module loaded on first use costs
 * a copy of its exports for each importer (esbuild's interop), which for
 * node:fs, imported by fifty modules, is more than it saves.
 */
const LOADED_AT_START = new Set(["node:fs", "node:path", "node:url", "node:module", "node:os"]);

const loadOnFirstUse = {
  name: "load-on-first-use",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.namespace === "first-use") return { path: args.path, external: true };
      if (args.kind !== "import-statement" || LOADED_AT_START.has(args.path)) return undefined;
      if (!LOAD_ON_FIRST_USE.includes(args.path) && !isBuiltin(args.path)) {
        return { errors: [{ text: `${args.importer} imports the package "${args.path}" statically: import it where it is used (await import), or add it to LOAD_ON_FIRST_USE in scripts/bundle-cli.mjs if it has a CommonJS build` }] };
      }
      return { path: args.path, namespace: "first-use" };
    });
    build.onLoad({ filter: /.*/, namespace: "first-use" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

const { validatorFingerprint } = await import(pathToFileURL(join(root, "dist/src/config/validator-fingerprint.js")).href);

rmSync(join(root, "dist/src/cli-bundle"), { recursive: true, force: true });
await build({
  entryPoints: [join(root, "dist/src/cli/run-cli.js")],
  outfile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  packages: "external",
  plugins: [loadOnFirstUse],
  // esbuild's require() for the packages above, in an ES module.
  banner: { js: 'import { createRequire as __bundleCreateRequire } from "node:module";\nconst require = __bundleCreateRequire(import.meta.url);' },
  define: { BOTTLE_VALIDATOR_FINGERPRINT: JSON.stringify(validatorFingerprint()) },
  logLevel: "warning",
});
