// Validates a loaded config value: schema first, then the checks that need
// the host (the workspace directory must exist). Reads, never writes.
import { resolve } from "node:path";
import type { z } from "zod";
import { problemsFromIssues, type ConfigProblem } from "./errors.js";
import {
  DEFAULT_BACKEND,
  DEFAULT_CPUS,
  DEFAULT_MAX_RESPONSE_MIB,
  DEFAULT_MEMORY_MIB,
  DEFAULT_GIT_TOKEN_USERNAME,
  DEFAULT_SIDECAR_READY_MS,
  type BottleConfig,
  type GitGate,
  type Sidecar,
} from "./resolved.js";
import { configSchema } from "./schema.js";
import { hostProblems } from "./host-checks.js";
import { egressWarnings, resolvePreset } from "./egress-presets.js";
import type { GitGateSpec, SidecarSpec } from "./define.js";

/** `warnings`: things a valid config does that deserve a word (they never fail it). */
export type Validation = { ok: true; config: BottleConfig; warnings: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

export function validateConfig(raw: unknown, configDir: string): Validation {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [{ path: "", message: "the default export must be a config object: `export default defineConfig({ ... })`" }],
    };
  }
  // reportInput: a problem knows whether its value was missing ("is required") or wrong.
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, problems: problemsFromIssues(parsed.error.issues, (path) => knownKeysAt(configSchema, path)) };
  }
  const input = parsed.data;
  const workspace: BottleConfig["workspace"] = input.workspace
    ? { host: resolve(configDir, input.workspace.host), guest: input.workspace.guest, readOnly: input.workspace.readOnly ?? false }
    : null;
  const gvforwarder = input.guest?.gvforwarder ?? "image";
  const config: BottleConfig = {
    name: input.name,
    backend: input.backend ?? DEFAULT_BACKEND,
    image: input.image,
    agent: {
      command: input.agent.command,
      env: input.agent.env ?? {},
      secrets: input.agent.secrets ?? {},
      workdir: input.agent.workdir ?? workspace?.guest ?? "/",
    },
    workspace,
    resources: {
      cpus: input.resources?.cpus ?? DEFAULT_CPUS,
      memoryMiB: input.resources?.memoryMiB ?? DEFAULT_MEMORY_MIB,
    },
    egress: {
      presets: presetRefs(input.egress?.presets ?? []),
      allow: input.egress?.allow ?? [],
      passthrough: input.egress?.passthrough ?? [],
      maxResponseMiB: input.egress?.maxResponseMiB ?? DEFAULT_MAX_RESPONSE_MIB,
    },
    gitGate: input.gitGate && "remotes" in input.gitGate ? toGitGate(input.gitGate) : toSidecar(input.gitGate),
    supervise: toSidecar(input.supervise),
    guest: { gvforwarder: gvforwarder === "image" ? "image" : resolve(configDir, gvforwarder) },
    network: { subnetOctet: input.network?.subnetOctet ?? null },
  };
  const problems = hostProblems(config);
  return problems.length ? { ok: false, problems } : { ok: true, config, warnings: egressWarnings(config.egress, config.agent.env) };
}

/** Each preset once, at the version its ref names (the newest when unpinned); the schema has refused unknown ones. */
function presetRefs(refs: readonly string[]): BottleConfig["egress"]["presets"] {
  const seen = new Map<string, { name: string; version: number }>();
  for (const ref of refs) {
    const resolved = resolvePreset(ref);
    if (resolved.ok) seen.set(`${resolved.preset.name}@${resolved.preset.version}`, { name: resolved.preset.name, version: resolved.preset.version });
  }
  return [...seen.values()];
}

function toSidecar(spec: false | SidecarSpec | undefined): Sidecar | null {
  if (!spec) return null;
  return {
    command: spec.command,
    env: spec.env ?? {},
    readyTimeoutMs: spec.ready?.timeoutMs ?? DEFAULT_SIDECAR_READY_MS,
  };
}

function toGitGate(spec: GitGateSpec): GitGate {
  const remotes: GitGate["remotes"] = {};
  for (const [name, remote] of Object.entries(spec.remotes)) {
    remotes[name] = {
      url: remote.url,
      token: { fromEnv: remote.token.fromEnv, username: remote.token.username ?? DEFAULT_GIT_TOKEN_USERNAME },
      push: remote.push ?? [],
      allowForcePush: remote.allowForcePush ?? false,
      allowDelete: remote.allowDelete ?? false,
    };
  }
  return { remotes };
}

/** The keys an object schema accepts at `path`, for "unknown key" messages. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const candidates = objectShapesAt(schema, path);
  return [...new Set(candidates.flatMap((shape) => Object.keys(shape)))].sort();
}

function objectShapesAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): Record<string, z.core.$ZodType>[] {
  // Every schema is one of zod's own types, whose definitions are told apart by `type`.
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
      return objectShapesAt(def.innerType, path);
    case "pipe":
      return objectShapesAt(def.in, path);
    case "union":
      return def.options.flatMap((option) => objectShapesAt(option, path));
    case "object": {
      const shape: Record<string, z.core.$ZodType> = def.shape;
      if (path.length === 0) return [shape];
      const next = shape[String(path[0])];
      return next ? objectShapesAt(next, path.slice(1)) : [];
    }
    case "record":
      return path.length === 0 ? [] : objectShapesAt(def.valueType, path.slice(1));
    case "array":
      return path.length === 0 ? [] : objectShapesAt(def.element, path.slice(1));
    default:
      return [];
  }
}
