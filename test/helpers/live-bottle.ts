// Driving a running bottle from a test: wait for its agent to be up (the
// fake smolvm hangs in `machine exec`), find pipelock's port, ask pipelock
// for a host, read watch's `live` lines.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { askProxy, waitForFile } from "./fakes.js";
import type { Line, Project, WatchProcess } from "./watch.js";

/** Waits for the agent to hang in `smolvm machine exec`: the bottle is up. Fails at once if launch exits first. */
export async function running(launch: WatchProcess, fakes: string): Promise<void> {
  const marker = join(fakes, "hang", "smolvm-exec");
  const early = launch.exit.then((exit) => {
    throw new Error(`bottle launch exited (${exit.code ?? exit.signal}) before the agent started\n--- stdout\n${launch.stdout()}\n--- stderr\n${launch.stderr()}`);
  });
  await Promise.race([waitForFile(marker, 60_000), early]);
  early.catch(() => undefined);
}

export function pipelockPort(project: Project): number {
  const record = JSON.parse(readFileSync(join(project.runDir, "supervisor.json"), "utf8")) as { ports: { pipelock?: number } };
  assert.type(record.ports.pipelock, "number", "supervisor.json names pipelock's port");
  return record.ports.pipelock!;
}

/** A CONNECT to `host` through pipelock: its status and body. */
export async function connectThrough(port: number, host: string): Promise<{ status: number; body: string }> {
  const { status, body } = await askProxy(port, `CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);
  return { status, body: body.trim() };
}

export const liveLines = (lines: readonly Line[]): string[] => lines.filter((l) => l.event === "live").map((l) => String(l.message));
