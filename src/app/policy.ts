// `bottle policy`: what a bottle may reach and what checks what leaves,
// read from its rendered files, with where the config says each allowed
// host, whether the files lag the config, and whether the running bottle
// has loaded exactly that; and its text.
import type { EffectivePolicy, PolicySetting } from "../backends/smolmachines/policy.js";
import { describeSource } from "../config/egress-presets.js";
import { describeReason } from "../graph/index.js";
import { planBottle } from "./build.js";
import type { Session } from "./session.js";

/** Whether a file the policy is read from is as the config would render it now. */
export interface Freshness {
  task: string;
  fresh: boolean;
  reasons: string[];
}

/** The policy as `bottle policy --json` prints it. */
export interface PolicyReport extends EffectivePolicy {
  bottle: { name: string; config: string; stage: string };
  rendered: Freshness[];
}

export async function policyReport(session: Session): Promise<PolicyReport> {
  const { backend, ctx } = session;
  const policy = await backend.policy(ctx);
  const plan = planBottle(session, policy.renderedBy);
  const rendered: Freshness[] = plan.entries
    .filter((entry) => policy.renderedBy.includes(entry.task))
    .map((entry) => ({ task: entry.task, fresh: entry.status === "fresh", reasons: entry.reasons.map(describeReason) }));
  return { bottle: { name: ctx.config.name, config: ctx.configPath, stage: ctx.stageDir }, rendered, ...policy };
}

/** The report in lines, for a person. */
export function formatPolicy(report: PolicyReport): string[] {
  return policyLines(report.bottle, report.rendered, report);
}

function policyLines(bottle: { name: string; config: string; stage: string }, freshness: readonly Freshness[], policy: EffectivePolicy): string[] {
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
