// Proves the record of refused requests against the real pipelock: the
// follower a launch starts reads pipelock's own log as it is written and
// keeps one record per refusal in blocked.jsonl (0600): a name off the
// allowlist (plain HTTP and CONNECT), an allowlisted name that resolves to
// 127.0.0.1 (SSRF), a secret in a URL, a header and a body (plain HTTP),
// two refusals inside one HTTPS tunnel that pipelock opens, and an entropy
// finding; a request sent to the credential injector's random name is
// recorded for the real host and the name is never written; the secret, a
// URL's path and query are never written either. The summary then offers
// the edit for the host off the allowlist and none for the rest.
// pipelock runs in a private mount namespace whose /etc/hosts maps the test
// names to 127.0.0.1, as the real-network suites run it; every request goes
// to pipelock or to an HTTPS server on 127.0.0.1, nowhere else.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { connect as http2Connect } from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inPrivateMounts } from "./acceptance/world.js";
import { askProxy, freePort, waitForChange, waitForPort } from "./helpers/fakes.js";
import { requireRoot, requireTools, skipSuite } from "./helpers/skip.js";
import { makeTestCa } from "./helpers/test-ca.js";
import { scratchDir } from "./helpers/watch.js";
import type { BlockedRecord } from "../src/backends/smolmachines/blocked/records.js";
import { findTool } from "../src/lib/host-tools.js";
import { packageRoot } from "../src/lib/package-root.js";
import { preparePipelock } from "../src/backends/smolmachines/steps/pipelock.js";
import { freshLog } from "../src/backends/smolmachines/logs.js";
import { pipelockRunFiles } from "../src/backends/smolmachines/pipelock-files.js";
import { caPaths } from "../src/backends/smolmachines/bottle-ca.js";
import { renderPipelockConfig } from "../src/backends/smolmachines/render/pipelock.js";
import { followRefusals } from "../src/backends/smolmachines/blocked/follow.js";
import { blockedFile } from "../src/backends/smolmachines/stage-dir.js";
import { refusalSummary } from "../src/backends/smolmachines/blocked/summary.js";

const INJECTOR = "5f1e0c3a9b7d4e2f8a6c1b0d9e8f7a6b.inject.bottle.invalid";
const SECRET = "tok-7Hq2LwPz9XvR4nB8sKd1";

/**
 * Sends each request's headers over one HTTP/2 connection inside `socket`,
 * one after another; resolves with their statuses. (Over HTTP/1.1 pipelock
 * closes the tunnel after a refusal; HTTP/2 keeps it, and its requests share
 * the tunnel's request_id in pipelock's log.)
 */
async function overHttp2(socket: TLSSocket, authority: string, requests: readonly Record<string, string>[]): Promise<number[]> {
  const session = http2Connect(`https://${authority}`, { createConnection: () => socket });
  const statuses: number[] = [];
  try {
    for (const headers of requests) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const stream = session.request(headers);
          stream.on("response", (answer) => resolve(Number(answer[":status"])));
          stream.on("error", reject);
          stream.resume();
          stream.end();
        }),
      );
    }
  } finally {
    session.close();
  }
  return statuses;
}

/** Opens a CONNECT tunnel through pipelock to host:port, then TLS inside it trusting `ca` (pipelock's CA: it opens the tunnel). */
function tunnel(proxyPort: number, host: string, port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = connect(proxyPort, "127.0.0.1");
    let head = "";
    raw.on("error", reject);
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      raw.off("data", onData);
      if (!/^HTTP\/1\.[01] 200/.test(head)) return reject(new Error(`CONNECT answered ${head.split("\r\n")[0]}`));
      const secure = tlsConnect({ socket: raw, servername: host, ca: readFileSync(ca), ALPNProtocols: ["h2"] }, () => resolve(secure));
      secure.on("error", reject);
    };
    raw.on("data", onData);
    raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

const missing = requireRoot("a private mount namespace for pipelock's /etc/hosts") ?? requireTools(["pipelock", "unshare", "openssl"]);
if (missing) {
  skipSuite("blocked-real-pipelock", missing);
} else {
  test("the real pipelock's refusals are recorded one per request, for the real host, without the secret, the path or the injector's name", async () => {
    const root = scratchDir("bbr-");
    const [stageDir, runDir] = [join(root, "stage"), join(root, "run")];
    mkdirSync(stageDir, { mode: 0o700 });
    mkdirSync(runDir, { mode: 0o700 });
    // pipelock's own CA (what pipelock.yaml names), which the test's client trusts inside a tunnel.
    mkdirSync(join(stageDir, "tls"), { mode: 0o700 });
    for (const file of ["ca.pem", "ca-key.pem"]) {
      copyFileSync(join(packageRoot(), "test", "fixtures", "fakes", "pipelock", "test-ca", file), join(stageDir, "tls", file));
      chmodSync(join(stageDir, "tls", file), 0o600);
    }
    // The upstream HTTPS server on loopback, with a certificate pipelock trusts through SSL_CERT_FILE.
    const upstreamCa = makeTestCa(scratchDir("bbr-ca-"), [INJECTOR]);
    const upstream = createServer({ cert: readFileSync(upstreamCa.cert), key: readFileSync(upstreamCa.key) }, (_req, res) => res.end("upstream\n"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;

    const resolver = { hostsFile: join(root, "hosts"), resolvFile: join(root, "resolv.conf") };
    writeFileSync(resolver.hostsFile, `127.0.0.1 localhost allowed.test ${INJECTOR}\n`);
    writeFileSync(resolver.resolvFile, "nameserver 127.0.0.1\n");
    writeFileSync(
      join(stageDir, "pipelock.yaml"),
      renderPipelockConfig({ allow: ["allowed.test"], subnetCidr: "192.168.9.0/24", secretsFile: pipelockRunFiles(runDir).secrets, tls: { ...caPaths(stageDir), passthrough: [], maxResponseBytes: 1 << 20 }, injectorName: INJECTOR }),
    );
    const port = await freePort();
    const start = preparePipelock({ stageDir, runDir }, findTool("pipelock")!, port, { API_TOKEN: SECRET });
    // As the supervisor does: stdout and stderr into <stage>/logs/pipelock.log, opened by bottle.
    const log = freshLog(stageDir, "pipelock");
    const [command, ...args] = inPrivateMounts(resolver, [start.command, ...start.args]);
    const child = spawn(command!, args, { env: { ...start.env, SSL_CERT_FILE: upstreamCa.bundle }, stdio: ["ignore", log.fd, log.fd] });
    const warnings: string[] = [];
    let follower: ReturnType<typeof followRefusals> | undefined;
    try {
      await waitForPort(port, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; pipelock's log: ${readFileSync(log.path, "utf8")}`);
      });
      follower = followRefusals({ stageDir, logFile: log.path, injector: { name: INJECTOR, hosts: ["api.test"] }, warn: (m) => warnings.push(m) });

      const ask = (head: string) => askProxy(port, head);
      const injected = `http://${INJECTOR}:${upstreamPort}/api.test/v1/messages`;
      const answers = [
        await ask("GET http://blocked.test/some/path HTTP/1.1\r\nHost: blocked.test\r\n\r\n"),
        await ask("CONNECT blocked.test:443 HTTP/1.1\r\nHost: blocked.test:443\r\n\r\n"),
        await ask("GET http://allowed.test/x HTTP/1.1\r\nHost: allowed.test\r\n\r\n"),
        await ask(`GET http://allowed.test/${SECRET} HTTP/1.1\r\nHost: allowed.test\r\n\r\n`),
        await ask(`GET ${injected} HTTP/1.1\r\nHost: ${INJECTOR}:${upstreamPort}\r\nX-Leak: ${SECRET}\r\n\r\n`),
        await ask(`POST ${injected} HTTP/1.1\r\nHost: ${INJECTOR}:${upstreamPort}\r\nContent-Type: text/plain\r\nContent-Length: ${SECRET.length + 2}\r\n\r\nk=${SECRET}`),
        await ask("GET http://allowed.test/x?q=Zk3LmQ9xT2vB7nR4pW8sY1cD6fH0jK5g HTTP/1.1\r\nHost: allowed.test\r\n\r\n"),
      ];
      assert.equal(answers.map((a) => a.status), [403, 403, 403, 403, 403, 403, 403], JSON.stringify(answers));
      // One tunnel, opened by pipelock (the client trusts only pipelock's CA): two requests in it carry the secret in a header.
      const secure = await tunnel(port, INJECTOR, upstreamPort, join(stageDir, "tls", "ca.pem"));
      const leak = { ":method": "GET", ":path": "/api.test/v1/models", "x-leak": SECRET };
      assert.equal(await overHttp2(secure, `${INJECTOR}:${upstreamPort}`, [leak, leak]), [403, 403]);

      const file = blockedFile(stageDir);
      const records = await waitForChange(
        file,
        () => {
          const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
          return lines.length >= 9 ? lines.map((l) => JSON.parse(l) as BlockedRecord) : undefined;
        },
        30_000,
        `nine records in ${file}`,
      );
      assert.equal(
        records.map((r) => [r.host, r.port, r.method, r.kind, r.scanner, r.injected ?? false]),
        [
          ["blocked.test", 80, "GET", "not-allowlisted", "allowlist", false],
          ["blocked.test", 443, "CONNECT", "not-allowlisted", "allowlist", false],
          ["allowed.test", 80, "GET", "ssrf", "ssrf", false],
          ["allowed.test", 80, "GET", "dlp", "dlp", false],
          ["api.test", 443, "GET", "dlp", "header_dlp", true],
          ["api.test", 443, "POST", "dlp", "body_dlp", true],
          ["allowed.test", 80, "GET", "entropy", "entropy", false],
          ["api.test", 443, "GET", "dlp", "header_dlp", true],
          ["api.test", 443, "GET", "dlp", "header_dlp", true],
        ],
      );
      const tunnelled = readFileSync(log.path, "utf8").split("\n").filter((l) => l.includes('"scanner":"header_dlp"')).map((l) => (JSON.parse(l) as { request_id: string }).request_id);
      assert.is(tunnelled.length, 2);
      assert.is(tunnelled[0], tunnelled[1], "pipelock logs both refusals in the tunnel under one request_id; each is a record");
      assert.equal(records[2]!.reason, "SSRF blocked: allowed.test resolves to internal IP 127.0.0.1");
      assert.equal(records[4]!.rules, ["Known Secret Leak"]);
      const written = readFileSync(file, "utf8");
      for (const never of [SECRET, INJECTOR.slice(0, 32), "some/path", "v1/messages", "v1/models", "Zk3LmQ9xT2vB7nR4pW8sY1cD6fH0jK5g", "X-Leak"]) {
        assert.not.ok(written.includes(never), `${never} is not in ${file}`);
      }
      assert.is(statSync(file).mode & 0o777, 0o600);

      const tally = follower.stop();
      follower = undefined;
      assert.is(tally.requests, 9);
      const summary = refusalSummary(tally.requests, tally.hosts("demo"), { bottle: "demo", config: "/p/bottle.config.ts", session: "this session" });
      assert.equal(summary.slice(1, 6), [
        "  api.test      4×  DLP (via the credential injector; Known Secret Leak; port 443)",
        "  blocked.test  2×  not allowlisted (GET, CONNECT; ports 80, 443)",
        "  allowed.test  1×  DLP (port 80)",
        "  allowed.test  1×  entropy (port 80)",
        "  allowed.test  1×  SSRF (GET; port 80)",
      ]);
      assert.ok(summary.includes('  blocked.test  egress.allow: add "blocked.test"  or run: bottle allow demo blocked.test'), summary.join("\n"));
      assert.not.match(summary.join("\n"), INJECTOR.slice(0, 32));
      assert.equal(warnings, []);
    } finally {
      follower?.stop();
      child.kill("SIGTERM");
      await exited(child);
      upstream.close();
    }
  });
}

test.run();
