// Where a bottle keeps its files. The stage dir holds rendered files, state
// and logs; the run dir holds sockets and pid records and is kept short,
// because unix socket paths are limited (104 bytes on macOS, 108 on Linux).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { usageError } from "./errors.js";
import { checkPrivateDir } from "./private-dir.js";
import { jailCredentials, jailHostUid } from "./backends/smolmachines/jail/bwrap-args.js";

/** The longest socket name bottle puts in the run dir (LONGEST_SOCKET_IN_RUN_DIR in the jail's layout; a test keeps them equal). */
export const LONGEST_SOCKET = "jail/relays/65535.sock";

export function stageDir(configDir: string, slug: string, override?: string): string {
  return override ? resolve(override) : join(configDir, ".bottle", slug);
}

export function runDir(slug: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const base = runtime && existsSync(runtime) ? join(runtime, "bottle") : join("/tmp", `bottle-${process.getuid?.() ?? "user"}`);
  const dir = join(base, slug);
  const limit = platform === "darwin" ? 104 : 108;
  // sun_path includes the terminating NUL.
  if (Buffer.byteLength(join(dir, LONGEST_SOCKET)) >= limit) {
    throw usageError(
      `the run dir ${dir} is too long for unix sockets (${limit - 1} bytes at most for ${join(dir, LONGEST_SOCKET)}); set XDG_RUNTIME_DIR to a shorter directory`,
    );
  }
  return dir;
}

function stateRoot(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "bottle");
}

/** The registry of bottles on this machine: one small record per bottle. */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), "bottles");
}

/** What bottle knows of each config it evaluated: the workspaces it lets a guest write (config/known-workspaces.ts). */
export function workspacesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), "workspaces");
}

/** The projects `bottle init` wrote a config for: one record per project (projects.ts). */
export function projectsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), "projects");
}

/** Where `bottle init` writes configs: bottle/ under XDG_CONFIG_HOME. */
export function initConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "bottle");
}

/** Which one-time notices this user has seen: one empty marker per notice and config. */
export function noticesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), "notices");
}

// Each of these directories is checked before bottle reads, writes or
// deletes anything in it (see private-dir.ts): false means it does not exist
// yet, an unsafe one is a BottleError.

/**
 * The run dir: its last two levels (bottle-<uid>/<slug>, or bottle/<slug>
 * under XDG_RUNTIME_DIR) are bottle's own. Its jail/ (and jail/relays)
 * belong to the jail's uid while it runs, which is nobody when bottle runs
 * as root (jail-dir.ts, handOverJailDir).
 */
export function checkRunDir(dir: string, options: { create?: boolean } = {}): boolean {
  const uid = process.getuid?.() ?? -1;
  const jailUid = jailHostUid(jailCredentials(uid), uid);
  return checkPrivateDir(dir, {
    what: "run dir",
    privateLevels: 2,
    subdirs: ["relays", "jail", "jail/relays"],
    subdirOwners: { jail: jailUid, "jail/relays": jailUid },
    ...options,
    fix: "bottle keeps its sockets and pid records there, so it must be yours alone; set XDG_RUNTIME_DIR to a directory of your own (mode 0700) to use another place",
  });
}

/** The stage dir (default <config dir>/.bottle/<slug>, or --stage): the dir itself and its logs/, guest/ and git/ are bottle's own. */
export function checkStageDir(dir: string, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(dir, {
    what: "stage dir",
    privateLevels: 1,
    subdirs: ["logs", "guest", "git"],
    ...options,
    fix: "the stage holds the files that confine the guest and bottle writes logs there, so it must be yours alone, under directories nobody else can write; pass --stage a directory of your own",
  });
}

/** The workspaces dir: bottle/workspaces under XDG_STATE_HOME. */
export function checkWorkspacesDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(workspacesDir(env), {
    what: "workspaces record dir",
    privateLevels: 2,
    ...options,
    fix: "it says which directories bottle's caches must stay out of, so it must be yours alone; set XDG_STATE_HOME to a directory of your own",
  });
}

/** The registry dir: bottle/bottles under XDG_STATE_HOME. */
export function checkRegistryDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(registryDir(env), {
    what: "registry dir",
    privateLevels: 2,
    ...options,
    fix: "it says which bottles exist and where their files are, so it must be yours alone; set XDG_STATE_HOME to a directory of your own",
  });
}

/** The projects dir: bottle/projects under XDG_STATE_HOME. */
export function checkProjectsDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(projectsDir(env), {
    what: "projects dir",
    privateLevels: 2,
    ...options,
    fix: "it says which config runs for a project, so it must be yours alone; set XDG_STATE_HOME to a directory of your own",
  });
}

/** The dir `bottle init` writes configs into: bottle/ under XDG_CONFIG_HOME. */
export function checkInitConfigDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(initConfigDir(env), {
    what: "config dir",
    privateLevels: 1,
    ...options,
    fix: "the configs there say what confines each bottle, so the dir must be yours alone; set XDG_CONFIG_HOME to a directory of your own",
  });
}

/** The notices dir: bottle/notices under XDG_STATE_HOME. */
export function checkNoticesDir(env: NodeJS.ProcessEnv = process.env, options: { create?: boolean } = {}): boolean {
  return checkPrivateDir(noticesDir(env), {
    what: "notices dir",
    privateLevels: 2,
    ...options,
    fix: "it remembers which one-time notices you have seen; set XDG_STATE_HOME to a directory of your own",
  });
}
