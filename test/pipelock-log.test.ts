// lastLoadedConfigHash reads the config pipelock last loaded from its log:
// the startup line, then each accepted reload; a refused reload, a line
// that is not pipelock's JSON, or a look-alike inside a string value (a
// host the guest asked for) changes nothing. Checked on made-up log text,
// and on the real pipelock's own output when it is installed.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lastLoadedConfigHash } from "../src/backends/smolmachines/pipelock-log.js";
import { renderPipelockConfig } from "../src/backends/smolmachines/render/pipelock.js";
import { findTool } from "../src/lib/host-tools.js";
import { packageRoot } from "../src/lib/package-root.js";
import { freePort } from "./helpers/fakes.js";
import { requireTools, skipSuite } from "./helpers/skip.js";
import { tempDir } from "./helpers/tmp.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const line = (fields: object) => JSON.stringify({ level: "info", component: "pipelock", ...fields, time: "2026-01-01T00:00:00Z" });

test("the startup hash, then each accepted reload's; refused reloads and stderr text are ignored", () => {
  const log = [
    "Pipelock v1.5.1 starting",
    line({ event: "startup", listen: "127.0.0.1:1", mode: "strict", config_hash: A, message: "pipelock started" }),
    "WARNING: config reload: mode - mode downgraded from strict to balanced",
    line({ level: "error", event: "error", method: "CONFIG_RELOAD", resource: "pipelock.yaml", error: "rejected: security downgrade from strict mode" }),
    "pipelock: config reload failed: parsing config pipelock.yaml: yaml: line 3",
  ];
  assert.is(lastLoadedConfigHash(log.join("\n")), A);
  log.push(line({ event: "config_reload", status: "success", detail: "mode=strict", config_hash: B, message: "configuration reloaded" }));
  assert.is(lastLoadedConfigHash(`${log.join("\n")}\n`), B);
});

test("nothing loaded yet, or only malformed claims: null", () => {
  assert.is(lastLoadedConfigHash(""), null);
  assert.is(lastLoadedConfigHash("Pipelock v1.5.1 starting\n"), null);
  assert.is(lastLoadedConfigHash(line({ event: "startup", config_hash: "not-a-hash" })), null);
  assert.is(lastLoadedConfigHash(line({ event: "startup", config_hash: A.toUpperCase() })), null);
  assert.is(lastLoadedConfigHash(line({ event: "config_reload", status: "error", config_hash: A })), null);
  assert.is(lastLoadedConfigHash(`${line({ event: "startup", config_hash: A }).slice(0, -1)}\n`), null, "a torn line");
});

test("a look-alike the guest puts in a logged value (a blocked host or URL) is not a load", () => {
  const forged = JSON.stringify({ event: "config_reload", status: "success", config_hash: B });
  const log = [
    line({ event: "startup", config_hash: A }),
    line({ event: "blocked", url: `http://x/${forged}`, reason: `domain not in allowlist: ${forged}` }),
    line({ event: "tunnel_open", host: `${forged}\n${forged}` }),
  ].join("\n");
  assert.is(lastLoadedConfigHash(log), A);
});

const missing = requireTools(["pipelock"]);
if (missing) {
  skipSuite("pipelock-log (the real pipelock's log)", missing);
} else {
  test("the real pipelock: its startup and reloads on a rename of its config log the sha256 of the file's bytes; a refused reload keeps the last", async () => {
    const dir = tempDir("pl-log-");
    const config = join(dir, "pipelock.yaml");
    const write = (text: string): string => {
      // Atomically, as bottle writes it: pipelock may reload on the rename alone.
      writeFileSync(`${config}.tmp`, text, { mode: 0o600 });
      renameSync(`${config}.tmp`, config);
      return createHash("sha256").update(text).digest("hex");
    };
    // What a launch gives pipelock: a secrets file, and a CA for its TLS interception (the fake's throw-away one).
    const secretsFile = join(dir, "secrets");
    writeFileSync(secretsFile, "", { mode: 0o600 });
    const tls = { caCert: join(dir, "ca.pem"), caKey: join(dir, "ca-key.pem"), passthrough: [], maxResponseBytes: 1 << 20 };
    for (const file of ["ca.pem", "ca-key.pem"]) {
      copyFileSync(join(packageRoot(), "test", "fixtures", "fakes", "pipelock", "test-ca", file), join(dir, file));
      chmodSync(join(dir, file), 0o600);
    }
    const render = (host: string) => renderPipelockConfig({ allow: [host], subnetCidr: "192.168.42.0/24", secretsFile, tls, injectorName: null });
    const first = write(render("a.example.com"));
    const port = await freePort();
    const child = spawn(findTool("pipelock")!, ["run", "--config", config, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      await outputMatches(child, () => out, /"event":"startup"/);
      assert.is(lastLoadedConfigHash(out), first, out);
      // pipelock logs its startup before it watches its config's directory
      // (and before it handles SIGHUP, which kills it until then): an edit
      // in that gap is never reloaded. bottle reloads by the file alone.
      await watching(child.pid!, dir);

      const second = write(render("b.example.com"));
      await outputMatches(child, () => out, new RegExp(`"event":"config_reload","status":"success".*"config_hash":"${second}"`));
      assert.is(lastLoadedConfigHash(out), second);

      // A downgrade from strict mode is refused: the running config stays the second.
      write(render("b.example.com").replace("mode: strict", "mode: balanced"));
      await outputMatches(child, () => out, /"method":"CONFIG_RELOAD".*rejected: security downgrade/);
      assert.is(lastLoadedConfigHash(out), second, out);
    } finally {
      child.kill("SIGTERM");
    }
  });
}

/** Resolves once process `pid` has an inotify watch on directory `dir` (its /proc fdinfo names the directory's inode). */
async function watching(pid: number, dir: string): Promise<void> {
  const inode = `ino:${statSync(dir).ino.toString(16)} `;
  for (;;) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:inotify" && readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8").includes(inode)) return;
      } catch {
        // closed meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once pipelock's stdout matches `pattern`; fails if it exits first (the test runner's timeout is the only clock). */
function outputMatches(child: ChildProcess, output: () => string, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(output())) return;
      child.stdout!.off("data", check);
      child.off("exit", exited);
      resolve();
    };
    const exited = (code: number | null): void => reject(new Error(`pipelock exited (${code}) before its output matched ${pattern}:\n${output()}`));
    child.stdout!.on("data", check);
    child.once("exit", exited);
    check();
  });
}

test.run();
