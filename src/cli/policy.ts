// bottle policy: what a bottle may reach and what checks what leaves, read
// from its rendered files, with where the config says each allowed host,
// and whether the running bottle has loaded exactly that.
import type { EffectivePolicy, PolicySetting } from "../backends/types.js";
import { describeSource } from "../config/egress-presets.js";
import { EXIT_OK } from "../errors.js";
import { describeReason, planGraph } from "../graph/index.js";
import { CONFIG, HELP, NAME, STAGE, helpText, parseArgs, stringOption, type CommandSpec } from "./args.js";
import { openSession } from "./session.js";

export const spec: CommandSpec = {
  name: "policy",
  summary: "Print the bottle's effective egress policy: every allowed host and where the config says it, passthrough hosts, the SSRF ranges, DLP, the git gate's remotes and push rules, and whether the running pipelock has loaded exactly this policy.",
  options: [CONFIG, STAGE, NAME, { name: "json", kind: "flag", description: "print it as one JSON object" }, HELP],
  details: [
    "Read from the rendered files in the stage dir (pipelock.yaml, sidecars.json): run `bottle build` first.",
    "It says when they are older than the config (the next build renders them again).",
    "A running bottle's pipelock has loaded this policy when the config hash it logged last",
    "(at startup or an accepted reload, in <stage>/logs/pipelock.log) is the rendered file's sha256.",
    "Exit codes: 0 printed, 1 the files are not rendered yet (or unreadable), 2 usage or config error.",
  ].join("\n"),
};

interface Freshness {
  task: string;
  fresh: boolean;
  reasons: string[];
}

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const { backend, ctx } = await openSession({ config: stringOption(args, "config"), stage: stringOption(args, "stage"), name: stringOption(args, "name") });
  const policy = await backend.policy(ctx);
  const plan = planGraph({ tasks: backend.tasks, ctx, root: ctx.stageDir, targets: policy.renderedBy });
  const freshness: Freshness[] = plan.entries
    .filter((entry) => policy.renderedBy.includes(entry.task))
    .map((entry) => ({ task: entry.task, fresh: entry.status === "fresh", reasons: entry.reasons.map(describeReason) }));
  const bottle = { name: ctx.config.name, config: ctx.configPath, stage: ctx.stageDir };
  if (args.options.json) console.log(JSON.stringify({ bottle, rendered: freshness, ...policy }));
  else console.log(formatPolicy(bottle, freshness, policy).join("\n"));
  return EXIT_OK;
}

function formatPolicy(bottle: { name: string; config: string; stage: string }, freshness: readonly Freshness[], policy: EffectivePolicy): string[] {
  const { proxy } = policy;
  const lines = [`bottle ${bottle.name} (config ${bottle.config})`, `${proxy.program}: ${proxy.file} (sha256 ${proxy.sha256})`];
  const stale = freshness.filter((f) => !f.fresh);
  if (stale.length === 0) lines.push("rendered from the current config");
  for (const { task, reasons } of stale) lines.push(`older than the config: ${task} (${reasons.join("; ")}); \`bottle build\` renders it again, and this shows the file as it is`);

  lines.push("", `allowed hosts; ${proxy.mode}:`);
  const width = Math.max(...proxy.allow.map((h) => h.host.length));
  for (const host of proxy.allow) {
    const from = host.from.map(describeSource).join(", ");
    const notes = [from, host.note, host.writeAnywhere && `takes writes from anyone: ${host.writeAnywhere}`].filter(Boolean).join("; ");
    lines.push(`  ${host.host.padEnd(width)}  ${notes}`);
  }

  lines.push("", "passthrough (HTTPS bodies and headers not scanned):");
  if (!proxy.tls.intercepted) lines.push("  every host: TLS interception is off, so pipelock sees only the host name of an HTTPS connection (CONNECT)");
  else if (proxy.tls.passthrough.length === 0) lines.push("  none: every allowed host's HTTPS is decrypted and scanned");
  else for (const host of proxy.tls.passthrough) lines.push(`  ${host}`);
  lines.push(...settingLines(proxy.tls.settings.filter((s) => s.key !== "tls_interception.passthrough_domains")));

  lines.push("", "SSRF: never dialled, whatever a name resolves to:", `  ${proxy.ssrf.join(", ")}`);

  lines.push("", "DLP (what leaves is scanned for secrets):");
  lines.push(proxy.tls.intercepted ? "  every request's URL and host name" : "  every request's URL (an HTTPS connection: its host name only)");
  lines.push(...settingLines(proxy.dlp));

  lines.push("", ...gitGateLines(policy.gitGate));

  if (proxy.other.length) lines.push("", `other ${proxy.program} settings:`, ...settingLines(proxy.other));

  lines.push("", runningLine(policy.running, proxy.sha256));
  return lines;
}

function settingLines(settings: readonly PolicySetting[]): string[] {
  return settings.map(({ key, value, means }) => `  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}${means ? ` — ${means}` : ""}`);
}

function gitGateLines(gate: EffectivePolicy["gitGate"]): string[] {
  if (gate === null) return ["git gate: off"];
  if (gate.kind === "sidecar") return [`git gate: a sidecar command (${gate.file}): ${gate.command.join(" ")}; its rules are its own`];
  const lines = [`git gate (${gate.file}):`];
  for (const r of gate.remotes) {
    const push = r.push.length ? r.push.join(", ") : "nothing (fetch only)";
    lines.push(`  ${r.name} → ${r.url}; push: ${push}; force push: ${r.allowForcePush ? "yes" : "no"}; delete: ${r.allowDelete ? "yes" : "no"}; token ${r.token}`);
  }
  return lines;
}

function runningLine(running: EffectivePolicy["running"], sha256: string): string {
  switch (running.state) {
    case "not running":
      return "running: no (a launch starts pipelock with this file)";
    case "running elsewhere":
      return `running: yes (pid ${running.pid}), from the stage ${running.stageDir}, whose pipelock.yaml it reads, not this one`;
    case "running":
      switch (running.loaded) {
        case "this policy":
          return `running: yes (pid ${running.pid}); its pipelock loaded exactly this policy (config hash ${running.loadedHash})`;
        case "another policy":
          return `running: yes (pid ${running.pid}); its pipelock last loaded another policy (config hash ${running.loadedHash}, this file is ${sha256}): the change is not in effect; \`bottle watch\` applies it live, or \`bottle resume\` after a stop`;
        case "unknown":
          return `running: yes (pid ${running.pid}); whether its pipelock loaded this policy is unknown: ${running.why ?? "no config hash in its log"} (${running.log})`;
      }
  }
}
