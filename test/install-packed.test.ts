// Proves bottle installs as a package: `npm pack` of this checkout (its
// scripts off: the test run has built dist/ already), `npm install -g` of the
// tarball into a temporary prefix with npm offline (the package carries its
// dependencies, so an install resolves nothing against a registry), then,
// from directories outside the checkout, `bottle --help` and `bottle build`
// on a project whose config imports defineConfig from the package's name.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { packageRoot } from "../src/lib/package-root.js";
import { PACKAGE_NAME } from "../src/config/package-name.js";
import { tempDir } from "./helpers/tmp.js";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { code: number | null; out: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, out: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}` };
}

test(`npm pack, then npm install -g of the tarball offline: \`bottle\` runs from anywhere, and builds a config importing "${PACKAGE_NAME}"`, () => {
  const root = tempDir("packed-");
  const pack = run(npm, ["pack", "--ignore-scripts", "--pack-destination", root], packageRoot());
  assert.is(pack.code, 0, pack.out);
  const tarball = readdirSync(root).find((file) => file.startsWith(`${PACKAGE_NAME}-`) && file.endsWith(".tgz"));
  assert.ok(tarball, `npm pack wrote no ${PACKAGE_NAME}-*.tgz: ${pack.out}`);

  const prefix = join(root, "prefix");
  const install = run(npm, ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, join(root, tarball!)], root);
  assert.is(install.code, 0, install.out);
  const bottle = join(prefix, "bin", "bottle");
  assert.ok(existsSync(bottle), "the package's bin is installed");
  const installed = join(prefix, "lib", "node_modules", PACKAGE_NAME);
  assert.not.ok(existsSync(join(installed, "dist", "test")), "no test code in the package");
  assert.not.ok(existsSync(join(installed, "node_modules", "typescript")), "no development dependency in the package");

  // Outside the checkout, with nothing of it on PATH.
  const home = join(root, "home");
  const project = join(root, "project");
  mkdirSync(join(project, "ws"), { recursive: true });
  mkdirSync(home);
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, XDG_RUNTIME_DIR: "", BOTTLE_TOOLS_DIR: "" };
  const help = run(bottle, ["--help"], root, env);
  assert.is(help.code, 0, help.out);
  assert.match(help.out, "usage: bottle <command>");

  writeFileSync(
    join(project, "bottle.config.ts"),
    `import { defineConfig } from "${PACKAGE_NAME}";\nexport default defineConfig({ name: "packed", image: "alpine:3", agent: { command: ["sh"] }, workspace: { host: "./ws", guest: "/workspace" }, egress: { allow: ["registry.npmjs.org"] } });\n`,
  );
  const build = run(bottle, ["build"], project, env);
  assert.is(build.code, 0, build.out);
  assert.match(readFileSync(join(project, ".bottle", "packed", "pipelock.yaml"), "utf8"), "registry.npmjs.org");
});

test.run();
