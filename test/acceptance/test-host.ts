// The world outside the bottle, run by the harness inside a test network
// namespace: an HTTP server on :80 (every name it serves answers
// `hello from <host> <nonce> <path>`), a UDP sink on :9999, and a DNS
// resolver on :53 (A records for the served names, NXDOMAIN for the rest).
// Everything it receives is logged as JSON lines, so the harness can show
// what never arrived.
// Usage: node test-host.js LOG ADDRESS NONCE NAME...
import { createSocket } from "node:dgram";
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { decodeQuestion, encodeResponse, TYPES } from "./dns-wire.js";

const [log = "", address = "", nonce = "", ...names] = process.argv.slice(2);
const record = (entry: object) => appendFileSync(log, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);

const http = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk: Buffer) => (body += chunk.toString()));
  request.on("end", () => {
    record({ kind: "http", method: request.method, url: request.url, headers: request.headers, body });
    response.end(`hello from ${request.headers.host} ${nonce} ${request.url}\n`);
  });
});

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

let pending = 3;
const ready = () => --pending === 0 && process.stdout.write("ready\n");
http.listen(80, address, ready);
udp.bind(9999, address, ready);
dns.bind(53, address, ready);
