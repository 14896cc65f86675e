// bottle ls: every bottle on this machine, with its state.
import { EXIT_OK } from "../lib/errors.js";
import { listRegistered } from "../app/lifecycle.js";
import { HELP, helpText, parseArgs, type CommandSpec } from "./args.js";

export const spec: CommandSpec = {
  name: "ls",
  summary: "List the bottles on this machine: state (running, stopped, stale), subnet, ports, stage dir, git gate remotes.",
  options: [{ name: "json", kind: "flag", description: "print the bottles as one JSON array" }, HELP],
  details: "A stale bottle's launcher died without cleaning up; `bottle rm NAME` clears it. A bottle whose run dir is unsafe (not yours, not 0700, a symlink) or not the one bottle derives for it is listed as refused, with why; ls reads only the registry and never runs a config.",
};

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, spec);
  if (args.options.help) return void console.log(helpText(spec)), EXIT_OK;
  const rows = [];
  for (const { entry, status: state } of await listRegistered()) {
    rows.push({
      name: entry.slug,
      state: state.state,
      ...(state.why ? { why: state.why } : {}),
      subnet: `192.168.${entry.octet}.0/24`,
      ports: state.ports ?? {},
      gitGate: state.gitGate ?? null,
      pid: state.pid ?? null,
      stage: entry.stageDir,
      config: entry.configPath,
    });
  }
  if (args.options.json) {
    console.log(JSON.stringify(rows));
    return EXIT_OK;
  }
  if (rows.length === 0) {
    console.log("no bottles yet (`bottle launch` registers one)");
    return EXIT_OK;
  }
  const table = [["NAME", "STATE", "SUBNET", "PORTS", "STAGE"], ...rows.map((r) => [r.name, r.state, r.subnet, Object.entries(r.ports).map(([k, v]) => `${k}:${v}`).join(",") || "-", r.stage])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join("  "));
  for (const r of rows) {
    for (const remote of r.gitGate?.remotes ?? []) console.log(`${r.name}: git gate ${remote.name} → ${remote.upstream} (proxy.internal:${r.gitGate!.port})`);
  }
  for (const r of rows) {
    if (r.state === "refused") console.log(`${r.name}: ${r.why}`);
    else if (r.why) console.log(`${r.name}: stale: ${r.why}; \`bottle rm ${r.name}\` clears it`);
  }
  return EXIT_OK;
}
