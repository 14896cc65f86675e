// sidecars.json records what the git gate and supervise start with, and
// never a secret: tokens and host-env values by variable name, literal env
// values not at all.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderSidecarsRecord } from "../src/backends/smolmachines/render/sidecars-record.js";

const remote = { url: "https://git.example.com/app.git", token: { fromEnv: "GH_TOKEN", username: "x-access-token" }, push: ["agent/*"], allowForcePush: false, allowDelete: false };

test("the built-in gate: each remote's URL and push policy, its token by variable name", () => {
  const record = JSON.parse(renderSidecarsRecord({ gitGate: { remotes: { origin: remote } }, supervise: null }));
  assert.equal(record, {
    gitGate: {
      builtin: true,
      remotes: { origin: { url: remote.url, token: "from the host's $GH_TOKEN (user x-access-token)", push: ["agent/*"], allowForcePush: false, allowDelete: false } },
    },
    supervise: null,
  });
});

test("a sidecar command: env from the host by name, a literal value never written", () => {
  const text = renderSidecarsRecord({
    gitGate: null,
    supervise: { command: ["sup", "--port", "{port}"], env: { LITERAL: "s3cret-literal-value", HOSTED: { fromEnv: "SUP_TOKEN" } }, readyTimeoutMs: 10_000 },
  });
  assert.not.match(text, "s3cret-literal-value");
  assert.equal(JSON.parse(text).supervise, {
    command: ["sup", "--port", "{port}"],
    env: { LITERAL: "(a value set in the config)", HOSTED: "from the host's $SUP_TOKEN" },
    readyTimeoutMs: 10_000,
  });
  assert.is(JSON.parse(text).gitGate, null);
});

test.run();
