import { test } from "uvu";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import {
  ALLOWS_NOTHING,
  renderPipelockConfig as renderWith,
  type PipelockConfigOptions,
} from "../src/backends/smolmachines/render/pipelock.js";

// pipelock's top-level config keys (its Config struct); it rejects unknown keys.
const PIPELOCK_KEYS = [
  "version", "mode", "enforce", "explain_blocks", "api_allowlist", "fetch_proxy",
  "forward_proxy", "tls_interception", "trusted_domains", "dlp", "internal", "request_body_scanning",
];

const SECRETS_FILE = "/run/user/1000/bottle/b/pipelock/secrets";
const TLS = { caCert: "/p/.bottle/b/tls/ca.pem", caKey: "/p/.bottle/b/tls/ca-key.pem", passthrough: [], maxResponseBytes: 128 * 1024 * 1024 };
type Options = Omit<PipelockConfigOptions, "subnetCidr" | "secretsFile" | "tls" | "injectorName"> & { tls?: Partial<PipelockConfigOptions["tls"]>; injectorName?: string };
const renderPipelockConfig = (opts: Options): string =>
  renderWith({ ...opts, subnetCidr: "192.168.42.0/24", secretsFile: SECRETS_FILE, tls: { ...TLS, ...opts.tls }, injectorName: opts.injectorName ?? null });

test("nothing is allowed that the caller does not pass: no built-in hosts", () => {
  assert.equal(parse(renderPipelockConfig({ allow: ["registry.npmjs.org"] })).api_allowlist, ["registry.npmjs.org"]);
});

test("an empty allowlist renders one name under the reserved .invalid TLD (strict mode refuses an empty list)", () => {
  assert.equal(parse(renderPipelockConfig({ allow: [] })).api_allowlist, [ALLOWS_NOTHING]);
  assert.match(ALLOWS_NOTHING, /\.invalid$/);
});

test("blank hosts are dropped: an allowlist of only blanks allows nothing, and no empty entry reaches pipelock", () => {
  assert.equal(parse(renderPipelockConfig({ allow: ["", "  ", "\t"] })).api_allowlist, ["allows-nothing.invalid"]);
  assert.equal(parse(renderPipelockConfig({ allow: [" ", "api.example.com", ""] })).api_allowlist, ["api.example.com"]);
  assert.equal(parse(renderPipelockConfig({ allow: ["api.example.com"], tls: { passthrough: ["", " "] } })).tls_interception.passthrough_domains, []);
});

test("strict, enforcing, forward proxy on, default DLP plus the secrets file; pipelock's (minimal) environment is not scanned", () => {
  const config = parse(renderPipelockConfig({ allow: [] }));
  for (const key of Object.keys(config)) assert.ok(PIPELOCK_KEYS.includes(key), key);
  assert.is(config.version, 1);
  assert.is(config.mode, "strict");
  assert.is(config.enforce, true);
  assert.equal(config.forward_proxy, { enabled: true });
  assert.equal(config.dlp, { include_defaults: true, scan_env: false, secrets_file: SECRETS_FILE });
});

test("headers and bodies are scanned and a finding blocks (pipelock leaves both off when unset)", () => {
  const config = parse(renderPipelockConfig({ allow: [] }));
  assert.equal(config.request_body_scanning, { enabled: true, action: "block", scan_headers: true, header_mode: "all" });
});

test("the allowlist adds the config's hosts, lower-cased, sorted and de-duplicated", () => {
  const config = parse(
    renderPipelockConfig({ allow: ["Registry.NPMJS.org", "github.com", "registry.npmjs.org", " pypi.org ", "sentry.io"] }),
  );
  const list: string[] = config.api_allowlist;
  assert.equal(list, [...list].sort());
  assert.equal(list.length, new Set(list).size);
  assert.ok(list.includes("registry.npmjs.org"));
  assert.ok(list.includes("pypi.org"));
  assert.not.ok(list.includes("Registry.NPMJS.org"));
  assert.is(list.filter((h) => h === "sentry.io").length, 1);
  assert.equal(list, ["github.com", "pypi.org", "registry.npmjs.org", "sentry.io"]);
});

test("wildcard hosts are kept as written", () => {
  const config = parse(renderPipelockConfig({ allow: ["*.Example.com", "*.github.com"] }));
  assert.ok(config.api_allowlist.includes("*.example.com"));
  assert.ok(config.api_allowlist.includes("*.github.com"));
});

test("pipelock's SSRF list (`internal`) names loopback, link-local, private, CGNAT and the bottle's subnet", () => {
  const internal: string[] = parse(renderPipelockConfig({ allow: [] })).internal;
  for (const range of ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10", "192.168.42.0/24"]) {
    assert.ok(internal.includes(range), range);
  }
  assert.is(internal.length, new Set(internal).size);
});

test("HTTPS is opened with the bottle's CA, but for passthrough hosts, which are allowed too; `*.x` means x and its subdomains in both lists", () => {
  const config = parse(renderPipelockConfig({ allow: ["api.example.com"], tls: { passthrough: ["pinned.example.org", "*.bank.example"], maxResponseBytes: 7 } }));
  assert.equal(config.tls_interception, {
    enabled: true,
    ca_cert: TLS.caCert,
    ca_key: TLS.caKey,
    // pipelock's passthrough `*.x` does not match x itself: bottle adds x.
    passthrough_domains: ["*.bank.example", "bank.example", "pinned.example.org"],
    max_response_bytes: 7,
  });
  for (const host of ["pinned.example.org", "*.bank.example"]) assert.ok(config.api_allowlist.includes(host), host);
});

test("without injected secrets nothing is admitted past the SSRF check; with them, exactly the injector's name, which is allowed too", () => {
  assert.is(parse(renderPipelockConfig({ allow: [] })).trusted_domains, undefined);
  const name = "0123456789abcdef0123456789abcdef.inject.bottle.invalid";
  const config = parse(renderPipelockConfig({ allow: ["api.example.com"], injectorName: name }));
  assert.equal(config.trusted_domains, [name]);
  assert.ok(config.api_allowlist.includes(name));
});

test("the same input renders the same bytes, whatever the order of allow", () => {
  assert.is(
    renderPipelockConfig({ allow: ["b.example", "a.example"] }),
    renderPipelockConfig({ allow: ["a.example", "b.example"] }),
  );
});

test.run();
