// Part of the `sidecars` step: once pipelock is up, what it refuses is
// recorded in <stage>/blocked.jsonl for the whole session, and summed up at
// teardown (after the machine has stopped, before pipelock does).
import { injectedSecrets } from "../../../config/resolved.js";
import { followRefusals } from "../blocked/follow.js";
import { refusalSummary } from "../blocked/summary.js";
import type { LaunchContext } from "./services.js";

export function recordRefusals(ctx: LaunchContext, logFile: string, injectorName: string | null): void {
  const injector = injectorName === null ? null : { name: injectorName, hosts: injectedSecrets(ctx.config).map(([, secret]) => secret.inject.host) };
  const follower = followRefusals({ stageDir: ctx.stageDir, logFile, injector, warn: (message) => ctx.launch.warn(message) });
  ctx.launch.undo.defer("following pipelock's refusals", () => {
    const tally = follower.stop();
    const slug = ctx.config.name;
    for (const line of refusalSummary(tally.requests, tally.hosts(slug), { bottle: slug, config: ctx.configPath, session: "this session" })) ctx.launch.say(line);
    // Nothing for the "cleaned up" list: no process or file to undo.
    return null;
  });
}
