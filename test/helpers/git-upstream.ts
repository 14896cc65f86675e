// A real git smart-HTTP upstream on loopback for the git gate's suites:
// `git http-backend` over bare repositories, answering only requests that
// carry the token (basic auth, any user name), and logging every request it
// gets, so a test can prove a refused push never reached it.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serveWithHttpBackend } from "../../src/gitgate/http-backend.js";
import { findOnPath } from "../../src/lib/host-tools.js";

export interface UpstreamRequest {
  method: string;
  path: string;
  /** info/refs?service=..., or the POST endpoint's service. */
  service: string;
  authorized: boolean;
}

export interface Upstream {
  port: number;
  /** The URL of repository `name` (a bare repo under the upstream's root). */
  url(name: string): string;
  /** Every request so far, in order. */
  requests: UpstreamRequest[];
  /** The receive-pack requests (a push reaching the upstream) since `from`. */
  pushesSince(from: number): UpstreamRequest[];
  close(): Promise<void>;
}

/** git with no user config: for the test's own repositories. */
export function plainGitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Test",
    GIT_AUTHOR_EMAIL: "test@example.invalid",
    GIT_COMMITTER_NAME: "Test",
    GIT_COMMITTER_EMAIL: "test@example.invalid",
  };
}

export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** git, without blocking this process (the upstream may be served from it). */
export function git(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<GitRun> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd, env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    child.stdin?.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

export async function gitOk(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const run = await git(args, cwd, env);
  if (run.code !== 0) throw new Error(`git ${args.join(" ")} failed (${run.code}):\n${run.stderr}`);
  return run.stdout.trim();
}

/** For setup before any server runs in this process. */
function gitSync(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const run = spawnSync("git", args, { cwd, env, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")} failed (${run.status}):\n${run.stderr}`);
}

/**
 * A bare repository `name` under `root` with one commit on main. With
 * `protectedBranch`, its own pre-receive hook refuses pushes to that branch,
 * as a hosting service's branch protection would.
 */
export function makeUpstreamRepo(root: string, name: string, env: NodeJS.ProcessEnv, protectedBranch?: string): string {
  const bare = join(root, `${name}.git`);
  gitSync(["init", "--quiet", "--bare", "--initial-branch=main", bare], root, env);
  const work = join(root, `${name}-seed`);
  gitSync(["init", "--quiet", "--initial-branch=main", work], root, env);
  writeFileSync(join(work, "README.md"), "hello\n");
  gitSync(["add", "."], work, env);
  gitSync(["commit", "--quiet", "-m", "first"], work, env);
  gitSync(["push", "--quiet", bare, "main"], work, env);
  if (protectedBranch) {
    mkdirSync(join(bare, "hooks"), { recursive: true });
    writeFileSync(
      join(bare, "hooks", "pre-receive"),
      `#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = "refs/heads/${protectedBranch}" ]; then echo "upstream: ${protectedBranch} is a protected branch" >&2; exit 1; fi\ndone\n`,
      { mode: 0o755 },
    );
  }
  return bare;
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  if (!header.startsWith("Basic ")) return false;
  const decoded = Buffer.from(header.slice(6), "base64").toString();
  return decoded.slice(decoded.indexOf(":") + 1) === token;
}

export async function startUpstream(root: string, token: string, env: NodeJS.ProcessEnv): Promise<Upstream> {
  const requests: UpstreamRequest[] = [];
  const git = findOnPath("git", env.PATH ?? "");
  if (git === null) throw new Error(`startUpstream: no git on ${env.PATH}`);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    const service = url.searchParams.get("service") ?? url.pathname.split("/").pop() ?? "";
    const ok = authorized(req, token);
    requests.push({ method: req.method ?? "", path: url.pathname, service, authorized: ok });
    if (!ok) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="upstream"', "content-type": "text/plain" });
      res.end("token required\n");
      return;
    }
    void serveWithHttpBackend(req, res, { git, projectRoot: root, pathInfo: url.pathname, query: url.search.slice(1), env });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    requests,
    pushesSince: (from) => requests.slice(from).filter((r) => r.service === "git-receive-pack"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
