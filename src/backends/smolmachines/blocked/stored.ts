// `bottle blocked`: the refusals of a registered bottle's running or last
// session, read back from <stage>/blocked.jsonl (without following a
// symlink; a line that is not a record is skipped).
import { readFileNoFollow } from "../../../lib/no-follow.js";
import { bottleState, markedStageDir, type BottlePlace } from "../lifecycle.js";
import { blockedFile } from "../stage-dir.js";
import type { BlockedRecord, BlockedReport } from "./records.js";
import { RefusalTally, refusalSummary } from "./summary.js";

export function storedRefusals(place: BottlePlace): BlockedReport {
  const stage = markedStageDir(place);
  const file = blockedFile(place.stageDir);
  const running = bottleState(place).state === "running";
  const text = stage === null ? null : readFileNoFollow(file);
  if (text === null) return { file, running, recorded: false, records: [], hosts: [], summary: [] };
  const records = text.split("\n").flatMap((line) => {
    const record = parseRecord(line);
    return record ? [record] : [];
  });
  const tally = new RefusalTally();
  for (const record of records) tally.add(record);
  const hosts = tally.hosts(place.slug);
  const summary = refusalSummary(tally.requests, hosts, { bottle: place.slug, config: place.configPath, session: running ? "the running session" : "the last session" });
  return { file, running, recorded: true, records, hosts, summary };
}

function parseRecord(line: string): BlockedRecord | null {
  if (!line.startsWith("{")) return null;
  try {
    const value = JSON.parse(line) as Partial<BlockedRecord>;
    const ok =
      typeof value.time === "string" &&
      typeof value.host === "string" &&
      (typeof value.port === "number" || value.port === null) &&
      typeof value.method === "string" &&
      typeof value.kind === "string" &&
      typeof value.scanner === "string" &&
      typeof value.reason === "string" &&
      (value.rules === undefined || (Array.isArray(value.rules) && value.rules.every((rule) => typeof rule === "string")));
    return ok ? (value as BlockedRecord) : null;
  } catch {
    return null;
  }
}
