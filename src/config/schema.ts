// The zod schema for bottle.config.ts. Every object is strict: an unknown
// key is an error, so a misspelt field never passes silently.
import { z } from "zod";
import type { BottleConfigInput } from "./define.js";
import { egressHostProblem } from "./egress-host.js";
import { resolvePreset } from "./egress-presets.js";
import { GIT_GATE_GUEST_ENV, gitGateRemotesSchema } from "./git-gate-schema.js";
import { SLUG_MAX, SLUG_PATTERN } from "./slug.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Set by bottle itself in the guest: the proxy variables (a user value would
 * bypass the proxy) and the TLS trust variables that make the guest trust
 * the bottle's CA, which pipelock signs intercepted sites with (a user value
 * would break every HTTPS request).
 */
export const RESERVED_ENV = [
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "https_proxy",
  "http_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "GIT_SSL_CAINFO",
] as const;

const slug = z
  .string({ error: "expected a string" })
  // abort: an empty name is one problem, not also a pattern mismatch.
  .min(1, { error: "must not be empty", abort: true })
  .max(SLUG_MAX, { error: `must be at most ${SLUG_MAX} characters` })
  .regex(SLUG_PATTERN, {
    error: "must be lowercase letters, digits and single hyphens, with no leading or trailing hyphen (e.g. `my-agent`)",
  });

const envName = z.string().regex(ENV_NAME, { error: "is not a valid environment variable name" });

const fromEnv = z.strictObject({
  fromEnv: envName,
});

/** RFC 9110's token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the HTTP machinery itself owns: a credential there would be dropped or break the request. */
const NOT_A_CREDENTIAL_HEADER = ["host", "connection", "keep-alive", "content-length", "content-type", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection"];

const inject = z.strictObject({
  host: z.string().superRefine((host, ctx) => {
    if (host.startsWith("*.")) ctx.addIssue({ code: "custom", message: "must name one host, not a wildcard: the credential goes to exactly that host" });
    else {
      const problem = egressHostProblem(host);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }
  }).transform((host) => host.toLowerCase()),
  header: z
    .string()
    .regex(HEADER_NAME, { error: "must be an HTTP header name (e.g. `x-api-key`, `authorization`)" })
    .refine((name) => !NOT_A_CREDENTIAL_HEADER.includes(name.toLowerCase()), { error: "is a header the HTTP connection itself uses; name the header the API reads the credential from" })
    .transform((name) => name.toLowerCase()),
  baseUrlEnv: envName.optional(),
});

const secretRef = z.strictObject({ fromEnv: envName, inject: inject.optional() }, { error: 'expected `{ fromEnv: "HOST_VAR" }` (or with `inject: { host, header }`)' });

const nonEmptyArgv = z
  .array(z.string().min(1, { error: "arguments must not be empty strings" }), { error: "expected an array of strings" })
  .min(1, { error: "must name a command (a non-empty array)" });

const absoluteGuestPath = z
  .string()
  .regex(/^\/[^\0]*$/, { error: "must be an absolute guest path (starting with /)" })
  .refine((p) => !p.split("/").includes(".."), { error: "must not contain `..`" });

const egressHosts = z.array(
  z
    .string()
    .superRefine((host, ctx) => {
      const problem = egressHostProblem(host);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((host) => host.toLowerCase()),
);

const sidecar = z.strictObject({
  command: nonEmptyArgv.refine((argv) => argv.some((a) => a.includes("{port}")), {
    error: "must contain a `{port}` placeholder where the allocated port goes",
  }),
  env: z.record(envName, z.union([z.string(), fromEnv], { error: 'expected a string or `{ fromEnv: "HOST_VAR" }`' })).optional(),
  ready: z
    .strictObject({
      tcp: z.literal(true).optional(),
      timeoutMs: z.int({ error: "expected a whole number of milliseconds" }).min(100, { error: "must be at least 100" }).max(600_000, { error: "must be at most 600000 (10 minutes)" }).optional(),
    })
    .optional(),
});

const sidecarOrOff = z.union([z.literal(false), sidecar], {
  error: "expected `false` or a sidecar spec `{ command: [..., \"{port}\"], env?, ready? }`",
});

export const configSchema = z
  .strictObject({
    name: slug,
    backend: z.string().min(1).optional(),
    image: z.string({ error: "expected an OCI image reference, a string" }).min(1, { error: "must not be empty" }),
    agent: z.strictObject(
      {
        command: nonEmptyArgv,
        env: z
          .record(envName, z.string({ error: "expected a string value" }))
          .refine((env) => !RESERVED_ENV.some((k) => k in env), {
            error: `must not set ${RESERVED_ENV.join(", ")}: bottle sets them to point at the proxy and to trust the bottle's CA`,
          })
          .optional(),
        secrets: z.record(envName, secretRef).optional(),
        workdir: absoluteGuestPath.optional(),
      },
      { error: "expected an object `{ command: [...] }`" },
    ),
    workspace: z
      .strictObject({
        host: z.string().min(1, { error: "must name a host directory" }),
        guest: absoluteGuestPath,
        readOnly: z.boolean().optional(),
      })
      .optional(),
    resources: z
      .strictObject({
        cpus: z.int({ error: "expected a whole number" }).min(1, { error: "must be at least 1" }).max(255, { error: "must be at most 255" }).optional(),
        memoryMiB: z.int({ error: "expected a whole number of MiB" }).min(256, { error: "must be at least 256 (MiB)" }).max(1_048_576, { error: "must be at most 1048576 (1 TiB)" }).optional(),
      })
      .optional(),
    egress: z
      .strictObject({
        presets: z
          .array(
            z.string({ error: "expected a preset name (a string)" }).superRefine((ref, ctx) => {
              const resolved = resolvePreset(ref);
              if (!resolved.ok) ctx.addIssue({ code: "custom", message: resolved.problem });
            }),
            { error: 'expected an array of preset names, e.g. `["claude-code"]`' },
          )
          .optional(),
        allow: egressHosts.optional(),
        passthrough: egressHosts.optional(),
        maxResponseMiB: z.int({ error: "expected a whole number of MiB" }).min(1, { error: "must be at least 1" }).max(4096, { error: "must be at most 4096" }).optional(),
      })
      .optional(),
    gitGate: z
      .union([z.literal(false), sidecar, gitGateRemotesSchema({ envName })], {
        error: "expected `false`, `{ remotes: { origin: { url, token, push } } }` or a sidecar spec `{ command: [..., \"{port}\"], env?, ready? }`",
      })
      .optional(),
    supervise: sidecarOrOff.optional(),
    guest: z
      .strictObject({
        gvforwarder: z.string().min(1).optional(),
      })
      .optional(),
    network: z
      .strictObject({
        subnetOctet: z.int({ error: "expected a whole number" }).min(1, { error: "must be from 1 to 254" }).max(254, { error: "must be from 1 to 254" }).optional(),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const env = config.agent.env ?? {};
    if (config.gitGate && "remotes" in config.gitGate) {
      for (const name of Object.keys(env).filter((key) => GIT_GATE_GUEST_ENV.test(key))) {
        ctx.addIssue({ code: "custom", path: ["agent", "env", name], message: "must not be set with gitGate.remotes: bottle sets git's GIT_CONFIG_* variables to route the remotes through the gate" });
      }
    }
    const secrets = config.agent.secrets ?? {};
    for (const name of Object.keys(secrets)) {
      if (name in env) {
        ctx.addIssue({
          code: "custom",
          path: ["agent", "secrets", name],
          message: "is also set in agent.env: a name is either a plain value or a secret, not both",
        });
      }
    }
    const injected = new Map<string, string>();
    for (const [name, { inject }] of Object.entries(secrets)) {
      if (!inject) continue;
      const key = `${inject.host} ${inject.header}`;
      const other = injected.get(key);
      if (other) ctx.addIssue({ code: "custom", path: ["agent", "secrets", name, "inject"], message: `injects the same header on the same host as agent.secrets.${other}` });
      injected.set(key, name);
      const url = inject.baseUrlEnv;
      if (url && (url in env || url in secrets || (RESERVED_ENV as readonly string[]).includes(url) || GIT_GATE_GUEST_ENV.test(url) || /^no_proxy$/i.test(url))) {
        ctx.addIssue({ code: "custom", path: ["agent", "secrets", name, "inject", "baseUrlEnv"], message: "names a variable that is already set (in agent.env, as a secret, or by bottle): pick another" });
      }
    }
  });

// The hand-written input type (define.ts, import-free) and the schema must agree.
type SchemaInput = z.input<typeof configSchema>;
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inputTypesAgree: Agree<SchemaInput, BottleConfigInput> = true;
void inputTypesAgree;
