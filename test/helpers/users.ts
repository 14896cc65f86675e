// Other local users for attack tests: made with useradd, removed when the
// test file exits. Needs root; `otherUsersUnavailable` says why not.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { type Exit, exitOf } from "./fakes.js";

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
}

const made: string[] = [];
process.on("exit", () => {
  for (const name of made) spawnSync("userdel", [name], { stdio: "ignore" });
});

/** Why users cannot be made here, or null when they can. */
export function otherUsersUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root to add users";
  if (spawnSync("useradd", ["--help"], { stdio: "ignore" }).error) return "useradd is not installed";
  return null;
}

/** A new user without a home directory; `tag` keeps names unique per suite (bt-<tag>-<pid>). */
export function makeUser(tag: string): LocalUser {
  const name = `bt-${tag}-${process.pid}`.slice(0, 32);
  execFileSync("useradd", ["--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name], { stdio: "ignore" });
  made.push(name);
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
  return { name, uid, gid };
}

/** Runs `command` as `user` (no supplementary groups), waiting for it to exit. */
export function runAs(user: LocalUser, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Exit> {
  const child = spawn(command, args, { uid: user.uid, gid: user.gid, env: options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" }, cwd: options.cwd ?? "/", stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return exitOf(child, () => ({ stdout, stderr }), 60_000);
}
