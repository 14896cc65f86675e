// The built-in git gateway's part of the config schema:
//   gitGate: { remotes: { origin: { url, token: { fromEnv }, push?, allowForcePush?, allowDelete? } } }
import { z } from "zod";
import { refGlobProblem } from "./git-ref-glob.js";
import { isSlug, SLUG_MAX } from "./slug.js";

const SCP_LIKE = /^[^/:@]+@[^/:]+:/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Why `url` cannot be a gate upstream, or null when it can. */
function upstreamUrlProblem(url: string): string | null {
  if (SCP_LIKE.test(url) || url.startsWith("ssh://") || url.startsWith("git+ssh://")) {
    return "ssh upstreams are not supported by the git gate: give the https URL of the repository (e.g. `https://github.com/team/app.git`) and a token";
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL: expected `https://host/path/repo.git`";
  }
  const loopback = LOOPBACK_HOSTS.has(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    return "must be an https:// URL (plain http only to a loopback host)";
  }
  if (parsed.username || parsed.password) return "must not hold a user name or password: the credential goes in `token.fromEnv`";
  if (parsed.search || parsed.hash || url.includes("?") || url.includes("#")) return "must not have a query or fragment";
  if (parsed.pathname === "/" || parsed.pathname === "") return "must name a repository path, e.g. `https://host/team/app.git`";
  // The URL is used as written (git rewrites the agent's URLs by prefix).
  if (parsed.href !== url) return `is not in canonical form; write it as \`${parsed.href}\``;
  return null;
}

const refGlob = z.string({ error: "expected a branch pattern (a string)" }).superRefine((pattern, ctx) => {
  const problem = refGlobProblem(pattern);
  if (problem) ctx.addIssue({ code: "custom", message: `is not a ref glob (${problem}), e.g. \`agent/*\`` });
});

function remoteSchema(envName: z.ZodString) {
  return z.strictObject(
    {
      url: z.string({ error: "expected the upstream's https URL (a string)" }).superRefine((url, ctx) => {
        const problem = upstreamUrlProblem(url);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
      token: z.strictObject(
        {
          fromEnv: envName,
          username: z.string().min(1).regex(/^[^\s:]+$/, { error: "must not contain spaces or `:`" }).optional(),
        },
        { error: 'expected `{ fromEnv: "HOST_VAR" }`: the host variable holding the upstream token' },
      ),
      push: z.array(refGlob, { error: "expected an array of branch patterns, e.g. [\"agent/*\"]" }).optional(),
      allowForcePush: z.boolean().optional(),
      allowDelete: z.boolean().optional(),
    },
    { error: "expected a remote `{ url, token: { fromEnv }, push? }`" },
  );
}

/**
 * The `{ remotes }` form of gitGate. schema.ts passes its own pieces, so an
 * environment variable name and a slug mean the same here as everywhere.
 * A remote's name is a path segment of the gate's URLs and a directory name: a slug.
 */
export function gitGateRemotesSchema({ envName }: { envName: z.ZodString }) {
  return z.strictObject({
    remotes: z
      // Names are checked beside the values (not as record keys), so a bad name
      // and a bad url are reported together.
      .record(z.string(), remoteSchema(envName), { error: "expected `{ origin: { url, token, push } }`" })
      .refine((remotes) => Object.keys(remotes).length > 0, { error: "must name at least one remote" })
      // Run even when a remote's value has problems, so every problem is reported at once.
      .superRefine(
        (remotes, ctx) => {
          const seen = new Map<string, string>();
          for (const [name, value] of Object.entries(remotes)) {
            if (!isSlug(name)) {
              ctx.addIssue({ code: "custom", path: [name], message: `is not a valid remote name: use a slug of lowercase letters, digits and single hyphens, at most ${SLUG_MAX} characters (e.g. \`origin\`)` });
            }
            const url: unknown = (value as { url?: unknown } | null)?.url;
            if (typeof url !== "string") continue;
            const first = seen.get(url);
            if (first !== undefined) ctx.addIssue({ code: "custom", path: [name, "url"], message: `is also the url of remote \`${first}\`: one remote per upstream` });
            else seen.set(url, name);
          }
        },
        { when: (payload) => typeof payload.value === "object" && payload.value !== null },
      ),
  });
}

/** Guest variables the gate's URL rewriting sets; the agent's env may not set them too. */
export const GIT_GATE_GUEST_ENV = /^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS)$/;
