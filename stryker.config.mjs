// Mutation testing of bottle's security modules with StrykerJS (`npm run
// mutate`; not part of `npm test` or CI: it is slow). Each mutant runs only
// the suites of its module (scripts/mutate/modules.mjs); see README,
// Development, "Mutation testing".
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mutatePatterns } from "./scripts/mutate/modules.mjs";

const root = dirname(fileURLToPath(import.meta.url));
// By real path: the jail binds a tool by its real path, and a test that runs the tool by a link's path would miss it.
const tools = existsSync(join(root, ".tools", "bin")) ? realpathSync(join(root, ".tools", "bin")) : join(root, ".tools", "bin");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "command",
  // The sandbox has no .tools (a link to large binaries): the tests find the pinned tools in this checkout's.
  commandRunner: { command: `BOTTLE_TOOLS_DIR=${JSON.stringify(tools)} node scripts/mutate/run-tests.mjs` },
  buildCommand: "node scripts/mutate/build.mjs",
  coverageAnalysis: "off",
  plugins: ["@stryker-mutator/*", "./scripts/mutate/ignore-messages.mjs"],
  ignorers: ["messages"],
  mutate: mutatePatterns(),
  ignorePatterns: ["dist", ".tools", "reports", "bench", ".bottle"],
  // One sandbox at a time: the suites already run two at a time, and some share host names (network namespaces, users).
  concurrency: 1,
  timeoutMS: 60_000,
  timeoutFactor: 1.5,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, allowEmojis: false },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
