// The credential injector, a host-side sidecar:  node main.js  with its
// options in BOTTLE_INJECTOR (options.ts) and each real credential in a
// BOTTLE_INJECTOR_VALUE_<n> variable. The guest never holds a credential it
// sends through here: it holds a placeholder, and every byte it sends still
// passes pipelock's DLP.
//
//   guest ── http://proxy.internal:<port>/<host>/<path> ──▶ front (127.0.0.1:<port>)
//   front ── http://<upstreamName>:<back port>/<host>/<path>, through pipelock ──▶ back (127.0.0.1:<back port>)
//   back ── https://<host>/<path>, the placeholder swapped for the value ──▶ the real host
//
// pipelock scans the request as the guest sent it (placeholder included)
// and may refuse it; only what it lets through reaches the back, which
// accepts nothing but requests for its own name carrying the exact
// placeholder. One log line per request on stdout, never a header value.
// Exit codes: 2 for bad options or a missing value, 1 when it cannot listen.
// Entry script: node: imports only (and siblings that obey the same rule).
import { readFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../lib/errors.js";
import { readInjectorOptions, type InjectorOptions, type InjectorRoute } from "./options.js";

/** Hop-by-hop headers (RFC 9110 7.6.1) and proxy headers: never forwarded by either side. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

function fail(message: string, code: number): never {
  process.stderr.write(`injector: ${message}\n`);
  process.exit(code);
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** Headers to pass on: no hop-by-hop ones (nor those the Connection header names). */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set(String(headers.connection ?? "").split(",").map((h) => h.trim().toLowerCase()));
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

const withHost = (headers: IncomingHttpHeaders, host: string): IncomingHttpHeaders => ({ ...endToEnd(headers), host });

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`bottle injector: ${text}\n`);
}

/** `/<host>/<rest>` → the route for <host> and `/<rest>` (query kept), or null. */
function splitTarget(url: string, routes: readonly InjectorRoute[]): { route: InjectorRoute; path: string } | null {
  const match = /^\/([^/?#]+)(\/[^#]*)?$/.exec(url);
  const route = match ? routes.find((r) => r.host === match[1]!.toLowerCase()) : undefined;
  return route ? { route, path: match![2] ?? "/" } : null;
}

/** Where a log line points: host and path, never the query (it may hold anything). */
const shown = (host: string, path: string) => `${host}${path.split("?")[0]}`;

/**
 * Relays `upstream`'s answer to `res`; a broken exchange ends `res`. A
 * refusal (403, pipelock's short text) has `hide` replaced by `shownAs`
 * first: the guest never learns the injector's name.
 */
function relay(res: ServerResponse, upstream: ReturnType<typeof httpRequest>, what: string, onStatus: (status: number) => void, hide?: { name: string; shownAs: string }): void {
  upstream.on("response", (response: IncomingMessage) => {
    const status = response.statusCode ?? 502;
    onStatus(status);
    response.on("error", () => res.destroy());
    if (status !== 403 || hide === undefined) {
      res.writeHead(status, endToEnd(response.headers));
      response.pipe(res);
      return;
    }
    let text = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => (text += chunk));
    response.on("end", () => {
      const { "content-length": _length, ...headers } = endToEnd(response.headers);
      res.writeHead(status, headers);
      res.end(text.replaceAll(hide.name, hide.shownAs));
    });
  });
  upstream.on("error", (error) => {
    log(`${what}: ${errorMessage(error)}`);
    answer(res, 502, `${what}: ${errorMessage(error)}`);
  });
  res.on("close", () => upstream.destroy());
}

function frontServer(options: InjectorOptions, backPort: () => number): Server {
  const hosts = options.routes.map((r) => r.host).join(", ");
  return createServer((req, res) => {
    const target = splitTarget(req.url ?? "", options.routes);
    if (target === null) return answer(res, 404, `no credential is injected for ${req.url ?? ""}; the base URLs are http://<this address>/<host> for: ${hosts}`);
    const { route, path } = target;
    const authority = `${options.upstreamName}:${backPort()}`;
    // An absolute-URI request: pipelock judges it and, if it lets it through, dials the back.
    const upstream = httpRequest({ host: "127.0.0.1", port: options.pipelockPort, method: req.method, path: `http://${authority}/${route.host}${path}`, headers: withHost(req.headers, authority) });
    const logStatus = (status: number) => log(`${req.method} ${shown(route.host, path)} → ${status}${status === 403 ? " (refused by pipelock)" : ""}`);
    relay(res, upstream, `through pipelock to ${route.host}`, logStatus, { name: options.upstreamName, shownAs: route.host });
    req.pipe(upstream);
  });
}

function backServer(options: InjectorOptions, values: ReadonlyMap<string, string>, ca: string | undefined, port: () => number): Server {
  return createServer((req, res) => {
    if (req.headers.host !== `${options.upstreamName}:${port()}`) return answer(res, 421, "not a request for this injector");
    const target = splitTarget(req.url ?? "", options.routes);
    if (target === null) return answer(res, 404, "no such route");
    const { route, path } = target;
    const headers = withHost(req.headers, route.host);
    for (const header of route.headers) {
      // Only the placeholder is swapped: a value the guest made up (its own key) is refused, never sent on.
      if (req.headers[header.name] !== header.placeholder) {
        log(`${req.method} ${shown(route.host, path)} refused: ${header.name} does not hold the placeholder`);
        return answer(res, 403, `the ${header.name} header must hold this bottle's placeholder (the guest's variable), which is replaced by the credential`);
      }
      headers[header.name] = values.get(header.valueEnv)!;
    }
    const upstream = httpsRequest({ host: route.host, port: 443, servername: route.host, method: req.method, path, headers, ...(ca ? { ca } : {}) });
    relay(res, upstream, `to ${route.host}`, () => undefined);
    req.pipe(upstream);
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => resolve((server.address() as AddressInfo).port));
  });
}

async function main(): Promise<void> {
  let options: InjectorOptions;
  try {
    options = readInjectorOptions(process.env);
  } catch (error) {
    fail(errorMessage(error), 2);
  }
  const values = new Map<string, string>();
  for (const header of options.routes.flatMap((r) => r.headers)) {
    const value = process.env[header.valueEnv];
    if (!value) fail(`${header.valueEnv} (the value for ${header.name}) is not set`, 2);
    values.set(header.valueEnv, value);
  }
  // As OpenSSL does: SSL_CERT_FILE, when set, replaces the roots the real hosts' certificates are checked against.
  const ca = process.env.SSL_CERT_FILE ? readFileSync(process.env.SSL_CERT_FILE, "utf8") : undefined;
  let backPort = 0;
  const back = backServer(options, values, ca, () => backPort);
  const front = frontServer(options, () => backPort);
  try {
    backPort = await listen(back, 0);
    await listen(front, options.port);
  } catch (error) {
    fail(`cannot listen: ${errorMessage(error)}`, 1);
  }
  log(`listening on 127.0.0.1:${options.port} for ${options.routes.map((r) => `${r.host} (${r.headers.map((h) => h.name).join(", ")})`).join("; ")}, through pipelock on 127.0.0.1:${options.pipelockPort}`);
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
}

await main();
