// Runs a git command to completion and collects its output. node: imports only.
import { spawn } from "node:child_process";

/**
 * git as the gate runs it: the absolute path the launch resolved once on
 * the trusted search path (never a name looked up again here, where PATH
 * or the working directory could make it the agent's), and its environment.
 */
export interface Git {
  program: string;
  env: NodeJS.ProcessEnv;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function runGit(git: Git, args: readonly string[], options: { cwd: string; input?: string | Buffer; onStderr?: (chunk: Buffer) => void }): Promise<GitResult> {
  return runProgram(git.program, args, { ...options, env: git.env });
}

export function runProgram(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string | Buffer; onStderr?: (chunk: Buffer) => void },
): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
    child.on("error", (error) => resolve({ code: 127, stdout: Buffer.alloc(0), stderr: `${command}: ${error.message}` }));
    child.on("close", (code, signal) =>
      resolve({ code: code ?? 128, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() + (signal ? `\n(${command} killed by ${signal})` : "") }),
    );
  });
}
