// pipelock as a launch runs it: from <run>/pipelock/ (pipelock-files.ts),
// with a minimal environment, and with the values bottle knows to be secret
// in its secrets file, so DLP looks for exactly those.
import { closeSync, constants, fchmodSync, readFileSync, watch, writeSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../../lib/hash.js";
import type { BuildContext } from "../context.js";
import { BottleError } from "../../../lib/errors.js";
import { makePrivateSubdir } from "../../../lib/private-dir.js";
import { lastLoadedConfigHash, reloadOutcome, type ReloadOutcome } from "../pipelock-log.js";
import { pipelockRunFiles } from "../pipelock-files.js";
import { writeFileAtomic } from "../../../lib/atomic-write.js";
import { openOwnFileNoFollow, readFileNoFollow } from "../../../lib/no-follow.js";
import type { ManagedProcess } from "../process/supervisor.js";

/** Where a bottle's pipelock files are: its rendered config in the stage, its running copy and secrets in the run dir. */
type StageAndRunDirs = Pick<BuildContext, "stageDir" | "runDir">;

/** pipelock's limits on its secrets file (scanner.LoadSecretsFile): shorter or longer lines, and lines past the count, are skipped. */
export const SECRETS_FILE_LIMITS = { minLength: 16, maxLineBytes: 4096, maxEntries: 1000 } as const;

/** The secrets file's lines for `secrets` (label → value), and a warning for each value pipelock would not look for. */
export function secretsFileLines(secrets: Readonly<Record<string, string>>): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const [label, value] of Object.entries(secrets)) {
    // pipelock reads one secret per line, trimmed; a value with line breaks is looked for line by line.
    const parts = value.split(/\r?\n/).map((part) => part.trim()).filter((part) => part !== "");
    const usable = parts.filter((part) => part.length >= SECRETS_FILE_LIMITS.minLength && Buffer.byteLength(part) <= SECRETS_FILE_LIMITS.maxLineBytes && !part.startsWith("#"));
    if (usable.length < parts.length || parts.length === 0) {
      warnings.push(
        `pipelock's DLP will not look for (all of) ${label}: it reads secrets of ${SECRETS_FILE_LIMITS.minLength} to ${SECRETS_FILE_LIMITS.maxLineBytes} bytes per line, and a line starting with # is a comment to it`,
      );
    }
    lines.push(...usable);
  }
  const unique = [...new Set(lines)];
  if (unique.length > SECRETS_FILE_LIMITS.maxEntries) {
    warnings.push(`pipelock reads at most ${SECRETS_FILE_LIMITS.maxEntries} secrets; ${unique.length - SECRETS_FILE_LIMITS.maxEntries} are left out`);
  }
  return { lines: unique.slice(0, SECRETS_FILE_LIMITS.maxEntries), warnings };
}

/** Writes pipelock's secrets file (0600, never through a symlink). */
function writeSecretsFile(path: string, lines: readonly string[]): void {
  const fd = openOwnFileNoFollow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, "pipelock's secrets file");
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, lines.map((line) => `${line}\n`).join(""));
  } finally {
    closeSync(fd);
  }
}

/** The stage's rendered pipelock.yaml, read without following a symlink. */
function renderedConfig(stageDir: string): string {
  const path = join(stageDir, "pipelock.yaml");
  const text = readFileNoFollow(path);
  if (text === null) throw new BottleError("failed", `${path} is missing; run \`bottle build\``);
  return text;
}

/** Puts the stage's pipelock.yaml where pipelock reads it; returns the hash pipelock will report for it. */
function installConfig(ctx: StageAndRunDirs): string {
  const text = renderedConfig(ctx.stageDir);
  writeFileAtomic(pipelockRunFiles(ctx.runDir).config, text, 0o600);
  return sha256Hex(text);
}

export interface PipelockStart {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  warnings: string[];
}

/**
 * Prepares <run>/pipelock/ (the secrets file, the config copy) and says how
 * to run pipelock there. Its environment is HOME (its own directory, so it
 * writes nothing of yours) and the host's TLS trust settings, which say
 * whose certificates it accepts from upstreams; nothing else of the caller's.
 */
export function preparePipelock(ctx: StageAndRunDirs, pipelock: string, port: number, secrets: Readonly<Record<string, string>>): PipelockStart {
  const files = pipelockRunFiles(ctx.runDir);
  makePrivateSubdir(files.dir);
  const { lines, warnings } = secretsFileLines(secrets);
  writeSecretsFile(files.secrets, lines);
  installConfig(ctx);
  const env: NodeJS.ProcessEnv = { HOME: files.dir };
  for (const name of ["SSL_CERT_FILE", "SSL_CERT_DIR"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { command: pipelock, args: ["run", "--config", files.config, "--listen", `127.0.0.1:${port}`], env, warnings };
}

/**
 * With injected secrets, pipelock must reach the injector by a name only it
 * knows: it runs under bubblewrap with its own /etc/hosts (this host's,
 * plus that name as 127.0.0.1) and nothing else changed: the host's whole
 * file system bound as it is, the host's network, its own mount namespace.
 */
export function withInjectorName(start: PipelockStart, bwrap: string, runDir: string, upstreamName: string): PipelockStart {
  const hosts = pipelockRunFiles(runDir).hosts;
  const system = readFileSync("/etc/hosts", "utf8");
  writeFileAtomic(hosts, `${system.endsWith("\n") || system === "" ? system : `${system}\n`}127.0.0.1 ${upstreamName}\n`, 0o600);
  return { ...start, command: bwrap, args: ["--die-with-parent", "--bind", "/", "/", "--ro-bind", hosts, "/etc/hosts", "--", start.command, ...start.args] };
}

export type ApplyResult =
  /** pipelock logged a successful reload of exactly these bytes (or already ran them). */
  | { state: "applied"; hash: string; already: boolean }
  | { state: "rejected"; hash: string; reason: string }
  | { state: "timeout"; hash: string };

export interface ApplyOptions {
  /** pipelock's log, where its reload lines appear. */
  logFile: string;
  timeoutMs: number;
}

/**
 * Installs the stage's current pipelock.yaml for the running pipelock and
 * waits until pipelock's log says it runs those exact bytes (their sha256),
 * or that it refused them, or `timeoutMs` passes. pipelock reloads by itself
 * when its config file is replaced (it watches the directory), in the
 * background, so "written" is not "in effect". No SIGHUP: under bubblewrap
 * (injected secrets) the signal would reach bubblewrap first, which dies of it.
 */
export async function applyPipelockConfig(ctx: StageAndRunDirs, options: ApplyOptions): Promise<ApplyResult> {
  const before = readFileNoFollow(options.logFile) ?? "";
  const hash = sha256Hex(renderedConfig(ctx.stageDir));
  if (lastLoadedConfigHash(before) === hash) return { state: "applied", hash, already: true };
  const offset = Buffer.byteLength(before);
  installConfig(ctx);
  const outcome = await waitForOutcome(options.logFile, offset, hash, options);
  if (outcome === null) return { state: "timeout", hash };
  return outcome.applied ? { state: "applied", hash, already: false } : { state: "rejected", hash, reason: outcome.rejected };
}

/** Watches pipelock's log past `offset` until it says what became of `hash`; null on timeout. */
function waitForOutcome(logFile: string, offset: number, hash: string, options: ApplyOptions): Promise<ReloadOutcome | null> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const text = readFileNoFollow(logFile) ?? "";
      const outcome = reloadOutcome(Buffer.from(text).subarray(offset).toString("utf8"), hash);
      if (outcome === null) return false;
      finish(outcome);
      return true;
    };
    const watcher = watch(logFile, () => void check());
    const timer = setTimeout(() => finish(null), options.timeoutMs);
    function finish(outcome: ReloadOutcome | null): void {
      clearTimeout(timer);
      watcher.close();
      resolve(outcome);
    }
    // Lines written since `offset`, before the watch began, are read here.
    check();
  });
}

/** How long a live reload waits for pipelock to say it runs the new config (measured: 135-217 ms). */
const PIPELOCK_RELOAD_TIMEOUT_MS = 10_000;

/**
 * A control request `reload pipelock`: installs the stage's pipelock.yaml
 * for the running pipelock and waits for its verdict. The reply's first
 * word says whether the new config is in effect (live.ts reads it).
 */
export async function reloadPipelock(ctx: StageAndRunDirs, pipelock: ManagedProcess | undefined): Promise<string> {
  if (!pipelock) return "error pipelock is not running";
  const result = await applyPipelockConfig(ctx, { logFile: pipelock.logFile, timeoutMs: PIPELOCK_RELOAD_TIMEOUT_MS });
  const version = `pipelock.yaml ${result.hash.slice(0, 12)}`;
  switch (result.state) {
    case "applied":
      return `reloaded pipelock (pid ${pipelock.pid}) ${result.already ? "already runs" : "now runs"} ${version}`;
    case "rejected":
      return `rejected pipelock (pid ${pipelock.pid}) refused ${version}: ${result.reason}`;
    case "timeout":
      return `timeout pipelock (pid ${pipelock.pid}) did not report loading ${version} within ${PIPELOCK_RELOAD_TIMEOUT_MS / 1000} s`;
  }
}
