// <stage>/blocked.jsonl: the requests pipelock refused in a bottle's running
// or last session, one JSON object (a BlockedRecord) per line.
import { join } from "node:path";

export const BLOCKED_FILE = "blocked.jsonl";

export function blockedFile(stageDir: string): string {
  return join(stageDir, BLOCKED_FILE);
}
