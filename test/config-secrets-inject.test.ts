// agent.secrets.<NAME>.inject: the guest gets a placeholder and bottle's
// injector puts the value into one header on requests to one host. The
// host is one concrete name (no wildcard, nothing egress.allow refuses), the
// header an HTTP header name the connection itself does not own, and a
// header on a host is injected by one secret only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { validateConfig } from "../src/config/validate.js";
import { injectedSecrets } from "../src/config/resolved.js";

const config = (secrets: object, env: Record<string, string> = {}) => ({ name: "demo", image: "a", agent: { command: ["sh"], env, secrets } });
const problems = (secrets: object, env?: Record<string, string>) => {
  const result = validateConfig(config(secrets, env), "/");
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

test("an injected secret resolves with its host and header lower-cased; a plain one has no inject", () => {
  const result = validateConfig(config({ KEY: { fromEnv: "HOST_KEY", inject: { host: "API.Anthropic.com", header: "X-Api-Key", baseUrlEnv: "ANTHROPIC_BASE_URL" } }, OTHER: { fromEnv: "HOST_OTHER" } }), "/");
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  if (!result.ok) return;
  assert.equal(result.config.agent.secrets.KEY, { fromEnv: "HOST_KEY", inject: { host: "api.anthropic.com", header: "x-api-key", baseUrlEnv: "ANTHROPIC_BASE_URL" } });
  assert.equal(injectedSecrets(result.config).map(([name]) => name), ["KEY"]);
});

test("the host is one concrete host egress.allow would take", () => {
  assert.match(problems({ K: { fromEnv: "H", inject: { host: "*.example.com", header: "x-api-key" } } })[0]!, /^agent\.secrets\.K\.inject\.host: must name one host, not a wildcard/);
  assert.match(problems({ K: { fromEnv: "H", inject: { host: "127.0.0.1", header: "x-api-key" } } })[0]!, /IP address/);
  assert.match(problems({ K: { fromEnv: "H", inject: { host: "app.localhost", header: "x-api-key" } } })[0]!, /localhost/);
});

test("the header is a header name the connection does not own", () => {
  for (const header of ["x api key", "x-api-key:", ""]) assert.match(problems({ K: { fromEnv: "H", inject: { host: "api.example.com", header } } })[0] ?? "", /inject\.header: must be an HTTP header name/, JSON.stringify(header));
  for (const header of ["Host", "content-length", "Transfer-Encoding", "Proxy-Authorization"]) {
    assert.match(problems({ K: { fromEnv: "H", inject: { host: "api.example.com", header } } })[0] ?? "", /the HTTP connection itself uses/, header);
  }
});

test("one secret per header and host; the base URL variable must be free", () => {
  const same = { A: { fromEnv: "HA", inject: { host: "api.example.com", header: "authorization" } }, B: { fromEnv: "HB", inject: { host: "api.example.com", header: "Authorization" } } };
  assert.equal(problems(same), ["agent.secrets.B.inject: injects the same header on the same host as agent.secrets.A"]);
  for (const taken of ["EXISTING", "A", "HTTPS_PROXY", "NO_PROXY", "GIT_CONFIG_COUNT"]) {
    const found = problems({ A: { fromEnv: "HA", inject: { host: "api.example.com", header: "x-api-key", baseUrlEnv: taken } } }, { EXISTING: "1" });
    assert.is(found.filter((p) => p.startsWith("agent.secrets.A.inject.baseUrlEnv")).length, 1, `${taken}: ${JSON.stringify(found)}`);
  }
});

test.run();
