// Watch mode's two ways in: `bottle watch` (until Ctrl-C), and `bottle
// launch --watch` (beside the agent, until the launch ends).
import { BottleWatcher } from "./watcher.js";
import { openSession, type Session } from "../session.js";

export interface WatchBottleOptions {
  /** The config file (found by the CLI). */
  config: string;
  stage?: string | undefined;
  /** --name: this bottle of the config, under its own name. */
  name?: string | undefined;
  json: boolean;
  signal: AbortSignal;
  print(line: string): void;
}

export async function watchBottle(options: WatchBottleOptions): Promise<void> {
  const { config, stage, name } = options;
  await new BottleWatcher({ open: () => openSession({ config, stage, name }), config, json: options.json, signal: options.signal, print: options.print }).start();
}

/** The same watcher, beside a launched bottle's agent: its lines go to stderr, each marked as the watcher's. */
export async function watchAlongside(session: Session, options: { json: boolean; signal: AbortSignal }): Promise<void> {
  await watchBottle({
    config: session.ctx.configPath,
    stage: session.ctx.stageDir,
    name: session.ctx.config.name,
    json: options.json,
    signal: options.signal,
    // Every line of a multi-line message (a config error's problems) is marked as the watcher's.
    print: (text) => process.stderr.write(`${text.split("\n").map((line) => `watch: ${line}`).join("\n")}\n`),
  });
}
