// Where a launch's process logs go: <stage>/logs/<role>.log, fresh each launch.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function freshLog(stageDir: string, role: string): string {
  const dir = join(stageDir, "logs");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${role}.log`);
  writeFileSync(path, "", { mode: 0o600 });
  return path;
}
