// Where a running bottle's pipelock reads its config and its secrets:
// <run>/pipelock/, which only the launcher writes. pipelock reloads by
// itself whenever its config file changes (fsnotify on its directory), so it
// never reads the stage's pipelock.yaml: a plain `bottle build` must not
// change a running bottle's policy behind the launcher's back. The launch
// installs a copy at start, and a live reload installs the next one.
import { join } from "node:path";

export const PIPELOCK_RUN_DIR = "pipelock";
export const PIPELOCK_CONFIG = "pipelock.yaml";
export const PIPELOCK_SECRETS = "secrets";
/** pipelock's own /etc/hosts, with injected secrets (steps/pipelock.ts). */
export const PIPELOCK_HOSTS = "hosts";

export interface PipelockRunFiles {
  dir: string;
  /** The copy of <stage>/pipelock.yaml pipelock runs with. */
  config: string;
  /** dlp.secrets_file: the secret values, one per line, 0600. */
  secrets: string;
  /** pipelock's /etc/hosts when secrets are injected. */
  hosts: string;
}

export function pipelockRunFiles(runDir: string): PipelockRunFiles {
  const dir = join(runDir, PIPELOCK_RUN_DIR);
  return { dir, config: join(dir, PIPELOCK_CONFIG), secrets: join(dir, PIPELOCK_SECRETS), hosts: join(dir, PIPELOCK_HOSTS) };
}
