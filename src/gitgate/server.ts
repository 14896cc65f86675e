// The gate's HTTP side: git's smart HTTP protocol for each remote at
// /<name>.git/, served by `git http-backend` from the remote's mirror.
// Before a fetch or a push starts (the info/refs request that begins both)
// the mirror is refreshed from the upstream, and a failed refresh fails
// the request (closed, never served from a stale mirror). Pushes are
// checked and forwarded by the mirror's pre-receive hook (pre-receive.ts).
// node: imports only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { serveWithHttpBackend } from "./http-backend.js";
import type { GateLog } from "./log.js";
import { mirrorDir, refreshMirror } from "./mirror.js";
import { GATE_REMOTE_ENV, type GateOptions, type GateRemote } from "./options.js";
import type { Git } from "./run-git.js";
import { redact, type Needle } from "./secret-needles.js";
import { errorMessage } from "../lib/errors.js";

const ROUTE = /^\/([a-z0-9-]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const SERVICES = new Set(["git-upload-pack", "git-receive-pack"]);

export interface GateServerInput {
  options: GateOptions;
  /** git and its environment (isolatedGitEnv). */
  git: Git;
  /** What receive-pack (and so the pre-receive hook) gets on top: options, tokens, secrets. */
  hookEnv: NodeJS.ProcessEnv;
  tokens: ReadonlyMap<string, string>;
  needles: readonly Needle[];
  log: GateLog;
}

/** One queue per remote: refreshes and pushes of a mirror never overlap. */
function serialiser(): (key: string, work: () => Promise<void>) => Promise<void> {
  const tails = new Map<string, Promise<void>>();
  return (key, work) => {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    tails.set(key, run.catch(() => undefined));
    return run;
  };
}

function pktLine(text: string): string {
  return (Buffer.byteLength(text) + 4).toString(16).padStart(4, "0") + text;
}

/** A refusal git prints as `fatal: remote error: <message>`. */
function sendGitError(res: ServerResponse, service: string, message: string): void {
  res.writeHead(200, { "content-type": `application/x-${service}-advertisement`, "cache-control": "no-cache" });
  res.end(pktLine(`# service=${service}\n`) + "0000" + pktLine(`ERR ${message.replace(/\s*\n\s*/g, " | ")}\n`));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${text}\n`);
}

export function createGateServer(input: GateServerInput): Server {
  const { options, git, hookEnv, tokens, needles, log } = input;
  const remotes = new Map(options.remotes.map((remote) => [remote.name, remote]));
  const serially = serialiser();
  const headKnown = new Set<string>();

  const refresh = async (remote: GateRemote, service: string): Promise<string | null> => {
    const what = service === "git-receive-pack" ? "push" : "fetch";
    const result = await refreshMirror(mirrorDir(options.dir, remote.name), remote, tokens.get(remote.name)!, git, !headKnown.has(remote.name));
    if (result.ok) {
      headKnown.add(remote.name);
      log(`${what} ${remote.name}: mirror refreshed from ${remote.url}`);
      return null;
    }
    const message = redact(`git gate: could not refresh ${remote.name} from ${remote.url}: ${result.message}`, needles);
    log(`${what} ${remote.name}: refused: ${message}`);
    return message;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://gate");
    const match = ROUTE.exec(url.pathname);
    const remote = match ? remotes.get(match[1]!) : undefined;
    if (!match || !remote) {
      return sendText(res, 404, `git gate: no such repository (this gate serves ${[...remotes.keys()].map((name) => `/${name}.git`).join(", ")})`);
    }
    const endpoint = match[2]!;
    const backend = { git: git.program, projectRoot: options.dir, pathInfo: url.pathname, query: url.search.slice(1), env: git.env };
    if (endpoint === "info/refs") {
      const service = url.searchParams.get("service") ?? "";
      if (req.method !== "GET" || !SERVICES.has(service)) return sendText(res, 403, "git gate: only git's smart HTTP protocol is served");
      let refused: string | null = null;
      await serially(remote.name, async () => {
        refused = await refresh(remote, service);
      });
      if (refused !== null) return sendGitError(res, service, refused);
      await serveWithHttpBackend(req, res, backend);
      return;
    }
    if (req.method !== "POST") return sendText(res, 405, `git gate: ${endpoint} takes POST`);
    if (endpoint === "git-upload-pack") {
      await serveWithHttpBackend(req, res, backend);
      return;
    }
    // A push: receive-pack runs the pre-receive hook, which needs the options, tokens and secrets.
    await serially(remote.name, async () => {
      await serveWithHttpBackend(req, res, { ...backend, env: { ...git.env, ...hookEnv, [GATE_REMOTE_ENV]: remote.name } });
    });
  };

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = redact(errorMessage(error), needles);
      log(`error: ${message}`);
      if (!res.headersSent) sendText(res, 500, `git gate: internal error: ${message}`);
      else res.end();
    });
  });
}
