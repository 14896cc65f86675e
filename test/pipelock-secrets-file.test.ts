// Proves pipelock's DLP looks for exactly the values bottle knows to be
// secret: they reach it in its secrets file (0600), it runs with a minimal
// environment, and a secret-looking value of the launcher's environment is
// not a secret to it. The real pipelock, in a private mount namespace whose
// /etc/hosts maps the test host to 127.0.0.1, so nothing leaves the host:
// pipelock checks a request's URL for secrets before it resolves the host
// (and refuses 127.0.0.1 at the SSRF check); headers and bodies are checked
// after that, so they are proven on the acceptance suite's test host.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inPrivateMounts } from "./acceptance/world.js";
import { askProxy, freePort, waitForPort } from "./helpers/fakes.js";
import { requireRoot, requireTools, skipSuite } from "./helpers/skip.js";
import { scratchDir } from "./helpers/watch.js";
import { findTool } from "../src/lib/host-tools.js";
import { packageRoot } from "../src/lib/package-root.js";
import { preparePipelock, secretsFileLines, SECRETS_FILE_LIMITS } from "../src/backends/smolmachines/steps/pipelock.js";
import { pipelockRunFiles } from "../src/backends/smolmachines/pipelock-files.js";
import { caPaths } from "../src/backends/smolmachines/bottle-ca.js";
import { renderPipelockConfig } from "../src/backends/smolmachines/render/pipelock.js";

test("each secret becomes its lines, trimmed; what pipelock would skip is warned about by name, never silently dropped", () => {
  const long = "x".repeat(SECRETS_FILE_LIMITS.maxLineBytes + 1);
  const { lines, warnings } = secretsFileLines({
    API_KEY: "  sk-test-0123456789abcdef  ",
    PEM: "first-line-of-the-key-0123\nsecond-line-of-the-key-4567\n",
    SHORT: "short",
    HASHED: "#0123456789abcdef0123",
    HUGE: long,
    AGAIN: "sk-test-0123456789abcdef",
  });
  assert.equal(lines, ["sk-test-0123456789abcdef", "first-line-of-the-key-0123", "second-line-of-the-key-4567"]);
  assert.equal(
    warnings.map((w) => /will not look for \(all of\) (\S+):/.exec(w)?.[1]),
    ["SHORT", "HASHED", "HUGE"],
  );
});

test("past pipelock's 1000 entries, the rest are left out and it says how many", () => {
  const many = Object.fromEntries(Array.from({ length: 1003 }, (_, i) => [`S${i}`, `secret-value-number-${String(i).padStart(5, "0")}`]));
  const { lines, warnings } = secretsFileLines(many);
  assert.is(lines.length, 1000);
  assert.match(warnings.join("\n"), "3 are left out");
});

const missing = requireRoot("a private mount namespace for pipelock's /etc/hosts") ?? requireTools(["pipelock", "unshare"]);
if (missing) {
  skipSuite("pipelock-secrets-file (real pipelock)", missing);
} else {
  test("the real pipelock blocks a known secret in a URL, and not a secret-looking value of the launcher's environment", async () => {
    const root = scratchDir("bps-");
    const [stageDir, runDir] = [join(root, "stage"), join(root, "run")];
    mkdirSync(stageDir, { mode: 0o700 });
    mkdirSync(runDir, { mode: 0o700 });
    const resolver = { hostsFile: join(root, "hosts"), resolvFile: join(root, "resolv.conf") };
    writeFileSync(resolver.hostsFile, "127.0.0.1 localhost api.test\n");
    writeFileSync(resolver.resolvFile, "nameserver 127.0.0.1\n");
    // pipelock loads the CA pipelock.yaml names: the contract fake's throw-away one.
    mkdirSync(join(stageDir, "tls"), { mode: 0o700 });
    for (const file of ["ca.pem", "ca-key.pem"]) {
      copyFileSync(join(packageRoot(), "test", "fixtures", "fakes", "pipelock", "test-ca", file), join(stageDir, "tls", file));
      chmodSync(join(stageDir, "tls", file), 0o600);
    }
    writeFileSync(join(stageDir, "pipelock.yaml"), renderPipelockConfig({ allow: ["api.test"], subnetCidr: "192.168.9.0/24", secretsFile: pipelockRunFiles(runDir).secrets, tls: { ...caPaths(stageDir), passthrough: [], maxResponseBytes: 1 << 20 }, injectorName: null }));
    const secret = "tok-7Hq2LwPz9XvR4nB8sKd1";
    // What pipelock's scan_env would have taken for a secret (16+ characters, entropy above 3): the launcher has it, pipelock must not.
    process.env.NPM_CONFIG_USER_AGENT_LIKE = "/usr/lib/node_modules/npm/bin/npm-cli.js"; // entropy 3.96: a secret to scan_env, below pipelock's URL entropy check (4.5)
    const port = await freePort();
    const ctx = { stageDir, runDir };
    const start = preparePipelock(ctx, findTool("pipelock")!, port, { API_TOKEN: secret });
    assert.equal(Object.keys(start.env).sort(), [...(process.env.SSL_CERT_DIR ? ["SSL_CERT_DIR"] : []), ...(process.env.SSL_CERT_FILE ? ["SSL_CERT_FILE"] : []), "HOME"].sort());
    assert.is(statSync(pipelockRunFiles(runDir).secrets).mode & 0o777, 0o600);
    assert.is(readFileSync(pipelockRunFiles(runDir).secrets, "utf8"), `${secret}\n`);
    const [command, ...args] = inPrivateMounts(resolver, [start.command, ...start.args]);
    const child = spawn(command!, args, { env: start.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      // pipelock starts in 0.3-0.7 s on a quiet machine; much more with both cores busy.
      await waitForPort(port, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; pipelock said: ${stderr}`);
      });
      const ask = (target: string) => askProxy(port, `GET ${target} HTTP/1.1\r\nHost: api.test\r\n\r\n`);
      const dlp = /^blocked: .*(secret|leak|DLP)/i;
      for (const [where, answer] of [
        ["the path", await ask(`http://api.test/${secret}`)],
        ["the query", await ask(`http://api.test/x?q=${secret}`)],
        ["the query, base64", await ask(`http://api.test/x?q=${Buffer.from(secret).toString("base64")}`)],
      ] as const) {
        assert.is(answer.status, 403, where);
        assert.match(answer.body, dlp, `${where}: ${answer.body}`);
      }
      const innocent = await ask(`http://api.test/x?q=${encodeURIComponent(process.env.NPM_CONFIG_USER_AGENT_LIKE)}`);
      assert.match(innocent.body, /SSRF blocked: api\.test resolves to internal IP 127\.0\.0\.1/, `not a DLP refusal: ${innocent.body}`);
    } finally {
      child.kill("SIGTERM");
      delete process.env.NPM_CONFIG_USER_AGENT_LIKE;
    }
  });
}

test.run();
