// bottle watch (placeholder until the watcher lands).
import { usageError } from "../errors.js";
import type { Session } from "./session.js";

export async function run(): Promise<number> {
  throw usageError("bottle watch is not implemented yet");
}

export async function watchBeside(_session: Session, _options: { json: boolean; signal: AbortSignal }): Promise<void> {
  throw usageError("--watch is not implemented yet");
}
