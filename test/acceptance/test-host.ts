// The world outside the bottle, run by the harness inside a test network
// namespace: an HTTP server on :80 and an HTTPS server on :443 (every name
// it serves answers `hello from <host> <nonce> <path>`; the certificate,
// from a test CA, is TEST_HOST_TLS_CERT and TEST_HOST_TLS_KEY), a UDP sink
// on :9999, and a DNS resolver on :53 (A records for the served names,
// NXDOMAIN for the rest). Everything it receives is logged as JSON lines,
// headers and bodies included, so the harness can show what never arrived.
// Usage: node test-host.js LOG ADDRESS NONCE NAME...
import { createSocket } from "node:dgram";
import { appendFileSync } from "node:fs";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { decodeQuestion, encodeResponse, TYPES } from "./dns-wire.js";

const [log = "", address = "", nonce = "", ...names] = process.argv.slice(2);
const record = (entry: object) => appendFileSync(log, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);

const serve = (kind: "http" | "https") => (request: IncomingMessage, response: ServerResponse) => {
  let body = "";
  request.on("data", (chunk: Buffer) => (body += chunk.toString("latin1")));
  request.on("end", () => {
    record({ kind, method: request.method, url: request.url, headers: request.headers, body });
    response.end(`hello from ${request.headers.host} ${nonce} ${request.url}\n`);
  });
};
const http = createServer(serve("http"));

// The first bytes of every TCP connection: a direct connection from the
// guest would show its marker here, whatever the HTTP parser makes of it.
http.on("connection", (socket) => socket.once("data", (chunk: Buffer) => record({ kind: "tcp", first: chunk.toString("latin1").slice(0, 40) })));

const udp = createSocket("udp4");
udp.on("message", (message) => record({ kind: "udp", data: message.toString("latin1") }));

const dns = createSocket("udp4");
dns.on("message", (message, peer) => {
  try {
    const question = decodeQuestion(message);
    record({ kind: "dns", name: question.name, type: question.type });
    const known = question.type === TYPES.A && names.includes(question.name);
    dns.send(encodeResponse(message, known ? address : undefined), peer.port, peer.address);
  } catch (error) {
    record({ kind: "dns-bad", error: String(error) });
  }
});

const [cert, key] = [process.env.TEST_HOST_TLS_CERT, process.env.TEST_HOST_TLS_KEY];
const https = cert && key ? createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, serve("https")) : null;

let pending = https ? 4 : 3;
const ready = () => --pending === 0 && process.stdout.write("ready\n");
http.listen(80, address, ready);
https?.listen(443, address, ready);
udp.bind(9999, address, ready);
dns.bind(53, address, ready);
