// Injected credentials, as the renderers and the launch name them. A secret
// with `inject` never reaches the guest: its variable there holds a
// placeholder, random per launch, which smolvm reads from the launcher's
// BOTTLE_PLACEHOLDER_<NAME>; the injector sidecar swaps it for the value on
// requests to the secret's host (src/injector/main.ts).
import { randomBytes } from "node:crypto";
import { injectedSecrets, type BottleConfig } from "../../config/resolved.js";
import type { InjectSpec } from "../../config/define.js";
import { proxyUrl } from "./guest-layout.js";

/** What the build decided for injected secrets (the \`injector\` task): the name pipelock reaches the injector by. */
export type InjectorName = { upstreamName: string };

export const PLACEHOLDER_ENV_PREFIX = "BOTTLE_PLACEHOLDER_";

/** The launcher variable smolvm takes an injected secret's guest value (the placeholder) from. */
export function placeholderEnv(secret: string): string {
  return PLACEHOLDER_ENV_PREFIX + secret;
}

/**
 * A fresh placeholder, worthless anywhere but through the injector. It must
 * look like no credential to pipelock's DLP rules, which match a prefix and
 * then a run of letters and digits (Mailgun's `key-` and 32 of them caught
 * `…-key-<32 hex>`): the 128 random bits go in dotted groups of four, so no
 * run is long enough for any rule.
 */
export function newPlaceholder(secret: string): string {
  const groups = randomBytes(16).toString("hex").match(/.{4}/g)!;
  return `bottle-placeholder.${secret.toLowerCase().replace(/[^a-z0-9]+/g, "-")}.${groups.join(".")}`;
}

/** The guest variable holding the base URL for an injected secret's host: its baseUrlEnv, else BOTTLE_INJECT_URL_<NAME>. */
export function baseUrlEnv(secret: string, inject: InjectSpec): string {
  return inject.baseUrlEnv ?? `BOTTLE_INJECT_URL_${secret}`;
}

/** Where the guest sends requests for `host` so that the credential is put in: the injector, by host. */
export function injectorBaseUrl(port: number, host: string): string {
  return `${proxyUrl(port)}/${host}`;
}

/** The Smolfile env for the injected secrets: each one's base URL variable. */
export function injectionGuestEnv(config: BottleConfig, injectorPort: number): Record<string, string> {
  return Object.fromEntries(injectedSecrets(config).map(([name, { inject }]) => [baseUrlEnv(name, inject), injectorBaseUrl(injectorPort, inject.host)]));
}

/**
 * The name pipelock reaches the injector by: 128 random bits under the
 * reserved `.invalid` (it resolves nowhere but in pipelock's own /etc/hosts).
 * Kept per bottle (the `injector` task) and never shown to the guest, since
 * whoever can ask pipelock for it reaches this host's loopback.
 */
export function newUpstreamName(): string {
  return `${randomBytes(16).toString("hex")}.inject.bottle.invalid`;
}

/** A fresh placeholder for each injected secret, by guest name. */
export function newPlaceholders(config: BottleConfig): Record<string, string> {
  return Object.fromEntries(injectedSecrets(config).map(([name]) => [name, newPlaceholder(name)]));
}

/**
 * The environment smolvm runs with: the launcher's, without the host
 * variables of injected secrets (smolvm passes only the Smolfile's secrets
 * into the guest, but the value has no business in smolvm at all), plus each
 * placeholder under the variable the Smolfile names for it.
 */
export function smolvmEnvironment(config: BottleConfig, placeholders: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const stillNeeded = new Set(Object.values(config.agent.secrets).filter((ref) => !ref.inject).map((ref) => ref.fromEnv));
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [, ref] of injectedSecrets(config)) if (!stillNeeded.has(ref.fromEnv)) delete out[ref.fromEnv];
  for (const [name, placeholder] of Object.entries(placeholders)) out[placeholderEnv(name)] = placeholder;
  return out;
}
