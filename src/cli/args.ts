// A small argument parser whose specs also produce --help, so the help
// text can never drift from what is accepted.
import { usageError } from "../lib/errors.js";

export interface OptionSpec {
  name: string;
  short?: string;
  /** flag: no value; value: requires one; optional-value: `--force` or `--force TASK`. */
  kind: "flag" | "value" | "optional-value";
  valueName?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** `required` ones are shown without brackets; the command checks they were given (after --help). */
  positionals?: { name: string; description: string; required?: boolean }[];
  options: OptionSpec[];
  /** Extra paragraphs for --help. */
  details?: string;
}

export interface ParsedArgs {
  options: Record<string, string | true | undefined>;
  positionals: string[];
}

export const HELP: OptionSpec = { name: "help", short: "h", kind: "flag", description: "show this help" };
export const CONFIG: OptionSpec = { name: "config", kind: "value", valueName: "PATH", description: "the bottle's config file (default: ./bottle.config.ts)" };
export const STAGE: OptionSpec = { name: "stage", kind: "value", valueName: "DIR", description: "the stage dir (default: <config dir>/.bottle/<name>)" };
export const NAME: OptionSpec = {
  name: "name",
  kind: "value",
  valueName: "NAME",
  description: "another bottle of this config, with its own stage, run dir, ports and machine (default: the config's name, or $BOTTLE_NAME)",
};
export const JSON_OUTPUT: OptionSpec = { name: "json", kind: "flag", description: "print NDJSON events instead of progress" };

export function parseArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const options: ParsedArgs["options"] = {};
  const positionals: string[] = [];
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const byShort = new Map(spec.options.filter((o) => o.short).map((o) => [o.short!, o]));
  const maxPositionals = spec.positionals?.length ?? 0;
  const seeHelp = `see \`bottle ${spec.name} --help\``;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const [rawName, inline] = arg.startsWith("--") ? splitOnce(arg.slice(2)) : [arg.slice(1), undefined];
    const option = arg.startsWith("--") ? byName.get(rawName) : byShort.get(rawName);
    if (!option) throw usageError(`unknown option ${arg} for \`bottle ${spec.name}\`; ${seeHelp}`);
    if (option.kind === "flag") {
      if (inline !== undefined) throw usageError(`--${option.name} takes no value; ${seeHelp}`);
      options[option.name] = true;
    } else if (inline !== undefined) {
      options[option.name] = inline;
    } else {
      const next = argv[i + 1];
      const takesNext = next !== undefined && !next.startsWith("-") && (option.kind === "value" || positionals.length >= maxPositionals);
      if (takesNext) {
        options[option.name] = next;
        i++;
      } else if (option.kind === "value") {
        throw usageError(`--${option.name} needs a value (${option.valueName ?? "VALUE"}); ${seeHelp}`);
      } else {
        options[option.name] = true;
      }
    }
  }
  if (positionals.length > maxPositionals && !options.help) {
    throw usageError(`unexpected argument \`${positionals[maxPositionals]}\` for \`bottle ${spec.name}\`; ${seeHelp}`);
  }
  return { options, positionals };
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf("=");
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export function helpText(spec: CommandSpec): string {
  const positionals = (spec.positionals ?? []).map((p) => (p.required ? ` ${p.name}` : ` [${p.name}]`)).join("");
  const lines = [`usage: bottle ${spec.name}${positionals} [options]`, "", spec.summary];
  if (spec.positionals?.length) {
    lines.push("", "arguments:");
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(22)}${p.description}`);
  }
  lines.push("", "options:");
  for (const o of spec.options) {
    const value = o.kind === "value" ? ` ${o.valueName ?? "VALUE"}` : o.kind === "optional-value" ? ` [${o.valueName ?? "VALUE"}]` : "";
    const flag = `${o.short ? `-${o.short}, ` : ""}--${o.name}${value}`;
    lines.push(`  ${flag.padEnd(22)}${o.description}`);
  }
  if (spec.details) lines.push("", spec.details);
  return lines.join("\n");
}

export function stringOption(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.options[name];
  return typeof value === "string" ? value : undefined;
}
