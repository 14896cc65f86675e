// One request served by git's own `git http-backend` (a CGI program): the
// request body goes to its stdin, its CGI header block becomes the HTTP
// status and headers, the rest is streamed back. node: imports only.
import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface BackendRequest {
  /** git by absolute path. */
  git: string;
  /** The directory holding the mirrors (GIT_PROJECT_ROOT), and where http-backend runs. */
  projectRoot: string;
  /** e.g. /origin.git/info/refs */
  pathInfo: string;
  query: string;
  env: NodeJS.ProcessEnv;
}

/** Resolves with http-backend's exit code once the response has been sent. */
export function serveWithHttpBackend(req: IncomingMessage, res: ServerResponse, backend: BackendRequest): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    ...backend.env,
    GIT_PROJECT_ROOT: backend.projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: backend.pathInfo,
    QUERY_STRING: backend.query,
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    REMOTE_USER: "agent",
    REMOTE_ADDR: "127.0.0.1",
    GIT_HTTP_MAX_REQUEST_BUFFER: "100M",
  };
  const length = req.headers["content-length"];
  if (length !== undefined) env.CONTENT_LENGTH = length;
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env.GIT_PROTOCOL = protocol;

  return new Promise((resolve) => {
    const child = spawn(backend.git, ["http-backend"], { cwd: backend.projectRoot, env, stdio: ["pipe", "pipe", "pipe"] });
    let head = Buffer.alloc(0);
    let headerSent = false;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on("error", () => undefined);
    req.pipe(child.stdin);
    child.stdout.on("data", (chunk: Buffer) => {
      if (headerSent) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headerSent = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      res.write(head.subarray(end + 4));
    });
    child.on("error", (error) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`git gate: cannot run git http-backend: ${error.message}\n`);
      resolve(127);
    });
    child.on("close", (code) => {
      if (!headerSent && !res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.write(`git gate: git http-backend failed${stderr ? `: ${stderr.trim()}` : ""}\n`);
      }
      res.end();
      resolve(code ?? 128);
    });
  });
}
