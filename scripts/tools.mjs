#!/usr/bin/env node
// `npm run tools`: installs the pinned real tools bottle drives (gvproxy,
// gvforwarder, pipelock) and the secret scanner (gitleaks) into .tools/bin
// with `go install`. Plain JavaScript so it runs on a fresh clone, before
// `npm run build`. Idempotent: .tools/manifest.json records what each binary
// was built from and its sha256; a tool whose pin and binary still match is
// left alone.
//
// Go's own GOPROXY, GONOSUMDB and GOFLAGS are honoured, so a local module
// mirror can serve a module the public proxy refuses (pipelock, here). For a
// pin marked refusable, a mirror that serves it is also looked for by itself
// (BOTTLE_GO_MIRROR, else ../shared/goproxy beside the checkout). A module
// left out of the checksum database that way is verified all the same: each
// pin carries its module's h1 hashes (source and go.mod), checked against
// what `go mod download -json` fetched before anything is built.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The pins (tool-pins.json, which `bottle doctor` reads too). `module`,
 * `h1` and `goModH1` name the module the package is in, its hash and its
 * go.mod's hash (go.sum's form);
 * `built` is the name `go install` gives the binary; `refusable` marks a tool
 * whose refusal by the module proxy is reported, not fatal; `ldflags` are
 * passed to the build and recorded with the pin.
 */
const TOOLS = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "tool-pins.json"), "utf8")).tools;

const MIN_GO = [1, 25];
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const toolsDir = join(root, ".tools");
const binDir = join(toolsDir, "bin");
const manifestPath = join(toolsDir, "manifest.json");

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findGo() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, "go"))) return join(dir, "go");
  }
  return isExecutable("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : null;
}

function goVersion(go) {
  const out = spawnSync(go, ["env", "GOVERSION"], { encoding: "utf8" });
  const match = /^go(\d+)\.(\d+)/.exec(out.stdout ?? "");
  return match ? [Number(match[1]), Number(match[2]), out.stdout.trim()] : null;
}

function readManifest() {
  try {
    const parsed = JSON.parse(readFileSync(manifestPath, "utf8"));
    return parsed && typeof parsed.tools === "object" && parsed.tools !== null ? parsed : { tools: {} };
  } catch {
    return { tools: {} };
  }
}

function writeManifest(manifest) {
  const temp = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temp, manifestPath);
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** The ELF interpreter a binary asks for (PT_INTERP), or null for a static binary. Non-ELF: null. */
function elfInterpreter(path) {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return null; // not little-endian ELF64
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const entry = i * phentsize;
      if (table.readUInt32LE(entry) !== 3) continue; // PT_INTERP
      const offset = Number(table.readBigUInt64LE(entry + 8));
      const size = Number(table.readBigUInt64LE(entry + 32));
      const name = Buffer.alloc(size);
      readSync(fd, name, 0, size, offset);
      return name.toString("utf8").replace(/\0+$/, "");
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

function goEnv(go, name) {
  return spawnSync(go, ["env", name], { encoding: "utf8" }).stdout?.trim() ?? "";
}

/** Go's case-encoding of a module path in a proxy's layout ("luckyPipewrench" → "lucky!pipewrench"). */
function proxyPath(module) {
  return module.replace(/[A-Z]/g, (letter) => `!${letter.toLowerCase()}`);
}

/**
 * Why another user could change `path` (whose stat is `info`), or null: it
 * must be yours or root's, and not writable by others, except, where
 * `stickyWritable` allows it, a sticky directory (/tmp), in which nobody
 * else can rename an entry of yours or root's.
 */
function othersCanChange(path, info, uid, stickyWritable = false) {
  if (info.uid !== uid && info.uid !== 0) return `${path} belongs to uid ${info.uid}, neither you nor root`;
  const sticky = (info.mode & 0o1000) !== 0;
  if ((info.mode & 0o022) !== 0 && !(stickyWritable && sticky)) return `${path} can be written by others (mode ${(info.mode & 0o7777).toString(8)})`;
  return null;
}

/**
 * Why `dir` (a real path) could be swapped or filled by another user, or
 * null: it and every directory above it must pass othersCanChange, the ones
 * above it sticky or not.
 */
function notPrivateEnough(dir) {
  const uid = process.getuid?.() ?? 0;
  for (let path = dir, above = false; ; above = true, path = dirname(path)) {
    const problem = othersCanChange(path, statSync(path), uid, above);
    if (problem || path === dirname(path)) return problem;
  }
}

/**
 * Why something inside `dir` could be changed by another user, or null:
 * every entry must pass othersCanChange, and none be a symbolic link (Go
 * would follow it out of the mirror). The mirror serves dependencies too,
 * which the pin's hashes do not cover.
 */
function contentsNotPrivate(dir, uid = process.getuid?.() ?? 0) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return `${path} is a symbolic link`;
    const problem = othersCanChange(path, info, uid) ?? (info.isDirectory() ? contentsNotPrivate(path, uid) : null);
    if (problem) return problem;
  }
  return null;
}

/**
 * A local module mirror (Go's file:// proxy layout) that serves `tool`'s
 * pinned version: BOTTLE_GO_MIRROR, else ../shared/goproxy beside the
 * checkout. The one found by itself is used only when no other user can
 * write or swap it or anything in it: the h1 checks guard the module itself,
 * and this keeps a directory another user controls out of GOPROXY for its
 * dependencies too. Returns { dir } or { skipped } (why a mirror that exists
 * is not used), or null when there is none.
 */
function findMirror(tool) {
  const named = process.env.BOTTLE_GO_MIRROR;
  const candidate = named ? resolve(named) : join(root, "..", "shared", "goproxy");
  if (!existsSync(candidate)) return named ? { skipped: `BOTTLE_GO_MIRROR=${named} does not exist` } : null;
  const dir = realpathSync(candidate);
  if (!statSync(dir).isDirectory()) return { skipped: `${dir} is not a directory` };
  // One you named is yours to vouch for, as GOPROXY would be.
  const problem = named ? null : (notPrivateEnough(dir) ?? contentsNotPrivate(dir));
  if (problem) return { skipped: `${problem} (BOTTLE_GO_MIRROR=${candidate} uses it all the same)` };
  if (!existsSync(join(dir, proxyPath(tool.module), "@v", `${tool.version}.info`))) return null;
  return { dir };
}

/**
 * The environment that puts a mirror serving `tool` first on GOPROXY and
 * skips the checksum database for that one module (the h1 check stands in
 * for it), or {} when there is no mirror or GOPROXY already names it.
 */
function mirrorEnv(go, tool) {
  const label = `${tool.name} ${tool.version}`;
  const mirror = tool.refusable ? findMirror(tool) : null;
  if (mirror === null) return {};
  if (mirror.skipped) {
    console.log(`${label}: not using the module mirror: ${mirror.skipped}`);
    return {};
  }
  const url = `file://${mirror.dir}`;
  const proxy = goEnv(go, "GOPROXY") || "https://proxy.golang.org,direct";
  if (proxy.split(/[,|]/).includes(url)) return {};
  const nosumdb = goEnv(go, "GONOSUMDB");
  console.log(`${label}: from the module mirror ${mirror.dir} (its h1 hashes are checked against the pin)`);
  return { GOPROXY: `${url},${proxy}`, GONOSUMDB: nosumdb ? `${tool.module},${nosumdb}` : tool.module };
}

function runGo(go, args, env) {
  return new Promise((resolve) => {
    const child = spawn(go, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", (error) => resolve({ code: null, stdout, stderr: error.message }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Fetches the pinned module into Go's module cache and checks its h1 hashes (source and go.mod):
 * null when it matches, else what went wrong (with the output of `go`).
 */
async function verifyModule(go, tool, env) {
  const result = await runGo(go, ["mod", "download", "-json", `${tool.module}@${tool.version}`], env);
  let info = null;
  try {
    info = JSON.parse(result.stdout);
  } catch {
    // `go` printed no JSON: the error is in its output.
  }
  if (result.code !== 0 || info === null || info.Error) return { refused: true, output: info?.Error ?? (result.stderr || result.stdout) };
  if (info.Sum !== tool.h1) {
    return {
      refused: false,
      output: `${tool.module}@${tool.version} has hash ${info.Sum}, but the pin is ${tool.h1}: refusing to build it (a module mirror or proxy served different source)`,
    };
  }
  // `go install` takes the module's requirements and go/godebug lines from
  // the .mod file the proxy serves, not from the zip.
  if (info.GoModSum !== tool.goModH1) {
    return {
      refused: false,
      output: `${tool.module}@${tool.version} has go.mod hash ${info.GoModSum}, but the pin is ${tool.goModH1}: refusing to build it (a module mirror or proxy served a different go.mod)`,
    };
  }
  return null;
}

async function goInstall(go, tool, gobin, env) {
  const flags = tool.ldflags ? [`-ldflags=${tool.ldflags}`] : [];
  const result = await runGo(go, ["install", "-trimpath", ...flags, `${tool.pkg}@${tool.version}`], { ...env, GOBIN: gobin, CGO_ENABLED: "0" });
  return { code: result.code, output: result.stdout + result.stderr };
}

function indented(output) {
  return output.trim().split("\n").map((line) => `    ${line}`).join("\n");
}

const REFUSED = /403 Forbidden|not available/i;

/** Installs one tool; returns "installed", "current", "refused" or "failed". */
async function install(go, tool, manifest) {
  const label = `${tool.name} ${tool.version}`;
  const target = join(binDir, tool.name);
  const pin = `${tool.pkg}@${tool.version}`;
  const recorded = manifest.tools[tool.name];
  const ldflags = tool.ldflags ?? "";
  if (recorded?.package === pin && (recorded.ldflags ?? "") === ldflags && isExecutable(target) && sha256(target) === recorded.sha256) {
    console.log(`${label}: already installed (${relative(root, target)})`);
    return "current";
  }
  console.log(`${label}: installing ${pin}`);
  const started = Date.now();
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const env = mirrorEnv(go, tool);
  const problem = await verifyModule(go, tool, env);
  if (problem !== null) {
    const detail = indented(problem.output);
    if (problem.refused && tool.refusable && REFUSED.test(problem.output)) {
      console.log(
        `${label}: NOT INSTALLED after ${seconds()}: the Go module proxy refuses it (403 "This module version is not available"):\n${detail}\n` +
          `  A local module mirror can serve it: BOTTLE_GO_MIRROR=DIR (or ../shared/goproxy beside the checkout, found by itself); see "Installing the tools" in the README.\n` +
          `  bottle looks for ${tool.name} on PATH, then in .tools/bin; with neither, preflight reports it missing and \`bottle launch\` refuses to start.`,
      );
      return "refused";
    }
    console.log(`${label}: FAILED after ${seconds()}: ${problem.refused ? "go mod download failed" : "hash mismatch"}:\n${detail}`);
    return "failed";
  }
  const gobin = mkdtempSync(join(toolsDir, "gobin-"));
  try {
    const result = await goInstall(go, tool, gobin, env);
    if (result.code !== 0) {
      const detail = indented(result.output);
      console.log(`${label}: FAILED after ${seconds()}: go install exited with ${result.code ?? "an error"}:\n${detail}`);
      return "failed";
    }
    const built = join(gobin, tool.built);
    const interpreter = elfInterpreter(built);
    if (interpreter !== null) {
      console.log(`${label}: FAILED: the binary is dynamically linked (interpreter ${interpreter}); it must be static to run in the jail`);
      return "failed";
    }
    renameSync(built, target);
    manifest.tools[tool.name] = { package: pin, ...(ldflags ? { ldflags } : {}), sha256: sha256(target) };
    writeManifest(manifest);
    console.log(`${label}: installed in ${seconds()} (${relative(root, target)}, static)`);
    return "installed";
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
}

async function main() {
  const go = findGo();
  if (go === null) {
    console.error("npm run tools needs Go >= 1.25 and found no `go` on PATH or at /usr/local/go/bin/go.");
    console.error("Install it from https://go.dev/dl/ (or your distribution's golang package), then run `npm run tools` again.");
    return 1;
  }
  const version = goVersion(go);
  if (version === null || version[0] < MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] < MIN_GO[1])) {
    console.error(`npm run tools needs Go >= ${MIN_GO.join(".")}; ${go} is ${version?.[2] ?? "of an unknown version"}.`);
    console.error("Install a newer Go from https://go.dev/dl/ (or your distribution's golang package), then run `npm run tools` again.");
    return 1;
  }
  mkdirSync(binDir, { recursive: true });
  console.log(`tools: ${version[2]} (${go}) into ${relative(process.cwd(), binDir) || "."}`);
  const manifest = readManifest();
  const outcomes = [];
  for (const tool of TOOLS) outcomes.push(await install(go, tool, manifest));
  const failed = TOOLS.filter((_, i) => outcomes[i] === "failed").map((t) => t.name);
  const refused = TOOLS.filter((_, i) => outcomes[i] === "refused").map((t) => t.name);
  if (!outcomes.includes("installed") && !outcomes.includes("failed")) console.log("tools: nothing to do: every installable pin is already in .tools/bin");
  if (refused.length) console.log(`tools: not installable here: ${refused.join(", ")} (see above)`);
  if (failed.length) {
    console.log(`tools: failed: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
