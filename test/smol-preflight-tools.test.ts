// Where preflight finds the host tools (PATH first, then bottle's
// .tools/bin) and which version each one reports, asked again only when the
// binary changes.
import { chmodSync, readFileSync, utimesSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { packageRoot } from "../src/lib/package-root.js";
import { toolSearchPath, toolsDir, trustedSearchPath } from "../src/lib/host-tools.js";
import { parseVersion, runVersionProbe, toolVersions, VERSION_ARGS, type VersionProbe } from "../src/backends/smolmachines/tool-versions.js";
import { describeRun, makeProject, runBottle, validConfig } from "./helpers/cli.js";
import { fakesBinDir } from "./helpers/fakes.js";
import { tempDir } from "./helpers/tmp.js";

/** The contract fake's throw-away CA (made by the real `pipelock tls init`). */
const TEST_CA = join(packageRoot(), "test", "fixtures", "fakes", "pipelock", "test-ca");

test("parseVersion takes the version out of each tool's answer", () => {
  assert.is(parseVersion("gvproxy version v0.8.9\n"), "v0.8.9");
  assert.is(parseVersion("bubblewrap 0.8.0"), "0.8.0");
  assert.is(parseVersion("v8.30.1"), "v8.30.1");
  assert.is(parseVersion("smolvm 0.6.0 (bottle contract fake)"), "0.6.0");
  assert.is(parseVersion("\npipelock version 1.5.1-0.20260428150615-408651293dfc\n"), "1.5.1-0.20260428150615-408651293dfc");
  assert.is(parseVersion("version is set by build process"), "version is set by build process");
  assert.is(parseVersion(""), null);
  assert.is(parseVersion(null), null);
});

test("the tools dir is .tools/bin of the checkout, after PATH; BOTTLE_TOOLS_DIR moves it, empty switches it off", () => {
  assert.is(toolsDir({}), join(packageRoot(), ".tools", "bin"));
  assert.is(toolSearchPath("/usr/bin:/bin", {}), `/usr/bin:/bin:${join(packageRoot(), ".tools", "bin")}`);
  assert.is(toolSearchPath("/usr/bin", { BOTTLE_TOOLS_DIR: "/opt/t" }), "/usr/bin:/opt/t");
  assert.is(toolSearchPath("/usr/bin", { BOTTLE_TOOLS_DIR: "" }), "/usr/bin");
  assert.is(toolSearchPath("", { BOTTLE_TOOLS_DIR: "/opt/t" }), "/opt/t");
});

test("the trusted search path keeps only absolute entries outside the guest-writable dirs (relative and empty entries mean some cwd)", () => {
  const env = { PATH: ".:node_modules/.bin::/usr/bin:/ws/node_modules/.bin:bin:/bin:", BOTTLE_TOOLS_DIR: "/opt/tools" };
  assert.is(trustedSearchPath(["/ws"], env), "/usr/bin:/bin:/opt/tools");
});

/** An executable that prints `answer` and counts how often it was asked. */
/**
 * A stub that answers its version and counts how often it was asked. A
 * pipelock stub also makes the bottle's CA (`tls init --out DIR`) from the
 * fake's test CA, uncounted.
 */
function countingTool(dir: string, name: string, answer: string): { path: string; asked: () => number } {
  const path = join(dir, name);
  const log = join(dir, `${name}.asked`);
  writeFileSync(log, "");
  const tlsInit = `if [ "$1" = tls ]; then mkdir -p "$4" && cp '${TEST_CA}/ca.pem' '${TEST_CA}/ca-key.pem' "$4"/ && exit 0; fi\n`;
  writeFileSync(path, `#!/bin/sh\n${name === "pipelock" ? tlsInit : ""}echo x >> '${log}'\necho '${answer}'\n`);
  chmodSync(path, 0o755);
  return { path, asked: () => readFileSync(log, "utf8").length / 2 };
}

test("a version is asked once, then reused while the binary's path, size and mtime stay the same", async () => {
  const dir = tempDir("versions-");
  const tool = countingTool(dir, "gvproxy", "gvproxy version v0.8.9");
  const first = await toolVersions({ gvproxy: tool.path }, undefined);
  assert.is(first.gvproxy?.version, "v0.8.9");
  assert.is(tool.asked(), 1);
  assert.equal(await toolVersions({ gvproxy: tool.path }, first), first);
  assert.is(tool.asked(), 1, "asked again although nothing changed");

  const later = new Date(Date.now() + 5_000);
  utimesSync(tool.path, later, later);
  assert.is((await toolVersions({ gvproxy: tool.path }, first)).gvproxy?.version, "v0.8.9");
  assert.is(tool.asked(), 2, "a new mtime must be asked again");

  appendFileSync(tool.path, "# grown\n");
  utimesSync(tool.path, later, later);
  await toolVersions({ gvproxy: tool.path }, first);
  assert.is(tool.asked(), 3, "a new size must be asked again");
});

test("a tool that fails to answer has version null; tools without a version flag and vanished files are left out", async () => {
  const dir = tempDir("versions-");
  const broken = join(dir, "pipelock");
  writeFileSync(broken, "#!/bin/sh\nexit 3\n");
  chmodSync(broken, 0o755);
  const asked: string[] = [];
  const probe: VersionProbe = (path, args) => (asked.push(`${path} ${args.join(" ")}`), runVersionProbe(path, args));
  const versions = await toolVersions({ pipelock: broken, gvforwarder: broken, gitleaks: join(dir, "gone") }, { pipelock: "junk" }, probe);
  assert.equal(Object.keys(versions), ["pipelock"]);
  assert.is(versions.pipelock?.version, null);
  assert.equal(asked, [`${broken} version`]);
});

test("the contract fakes answer their version flags without FAKES_STATE, as preflight asks them", async () => {
  for (const name of ["smolvm", "gvproxy", "pipelock"]) {
    const output = await runVersionProbe(join(fakesBinDir, name), VERSION_ARGS[name]!);
    assert.ok(parseVersion(output)?.match(/^v?\d+\.\d+/), `${name}: ${output}`);
  }
});

test("bottle build: a tool missing from PATH is found in the tools dir, one on PATH wins, and the log says where and which version", () => {
  const project = makeProject(validConfig());
  const tools = tempDir("tools-bin-");
  const inTools = countingTool(tools, "pipelock", "pipelock version 9.9.9");
  countingTool(tools, "gvproxy", "gvproxy version v0.0.1-tools");
  const onPath = tempDir("on-path-");
  const gvproxy = countingTool(onPath, "gvproxy", "gvproxy version v0.8.9");
  const env = { PATH: `${onPath}:/usr/bin:/bin`, BOTTLE_TOOLS_DIR: tools };
  const first = runBottle(["build"], { cwd: project, env });
  assert.is(first.code, 0, describeRun(first));
  assert.match(first.stdout, `pipelock 9.9.9 at ${inTools.path}`);
  assert.match(first.stdout, `gvproxy v0.8.9 at ${gvproxy.path}`);
  assert.not.match(first.stdout, "v0.0.1-tools");
  assert.match(first.stderr, "- smolvm  install:", describeRun(first));
  assert.not.match(first.stderr, "- pipelock", describeRun(first));

  const second = runBottle(["build"], { cwd: project, env });
  assert.is(second.code, 0, describeRun(second));
  assert.match(second.stdout, `pipelock 9.9.9 at ${inTools.path}`);
  assert.is(inTools.asked(), 1, "the second build asked pipelock's version again");
  assert.is(gvproxy.asked(), 1, "the second build asked gvproxy's version again");
});

test.run();
