import { randomBytes } from "node:crypto";
import { parse } from "smol-toml";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BottleConfig } from "../src/config/resolved.js";
import { renderSmolfile } from "../src/backends/smolmachines/render/smolfile.js";

// The Smolfile's top-level keys (smolvm.md); smolvm rejects anything else.
const SMOLFILE_KEYS = [
  "image", "entrypoint", "cmd", "env", "secrets", "workdir", "cpus", "memory", "net",
  "gpu", "gpu_vram", "rosetta", "cuda", "auto_graph", "docker_socket", "storage",
  "overlay", "ports", "volumes", "init",
  "network", "dev", "artifact", "pack", "fork", "health", "restart", "auth", "service",
];

const PROXY = "http://proxy.internal:41234";
const GUEST_DIR_HOST = "/home/me/project/.bottle/demo/guest";

function config(overrides: Partial<BottleConfig> = {}): BottleConfig {
  return {
    name: "demo",
    backend: "smolmachines",
    image: "ghcr.io/example/agent:1",
    agent: {
      command: ["claude"],
      env: { TERM: "xterm-256color", EDITOR: "vi" },
      secrets: { ANTHROPIC_API_KEY: { fromEnv: "HOST_ANTHROPIC_KEY" } },
      workdir: "/workspace",
    },
    workspace: { host: "/home/me/project", guest: "/workspace", readOnly: false },
    resources: { cpus: 2, memoryMiB: 4096 },
    egress: { presets: [], allow: [], passthrough: [], maxResponseMiB: 128 },
    gitGate: null,
    supervise: null,
    guest: { gvforwarder: "image" },
    network: { subnetOctet: null },
    ...overrides,
  };
}

function render(c: BottleConfig = config()): Record<string, any> {
  return parse(renderSmolfile({ config: c, pipelockPort: 41234, guestDirHost: GUEST_DIR_HOST }));
}

test("every top-level key is one smolvm accepts, and no [network], ports or init", () => {
  const smolfile = render();
  for (const key of Object.keys(smolfile)) assert.ok(SMOLFILE_KEYS.includes(key), key);
  for (const absent of ["network", "ports", "init"]) assert.not.ok(absent in smolfile, absent);
});

test("image, resources and workdir come from the config; smolvm's network is off", () => {
  const smolfile = render();
  assert.is(smolfile.image, "ghcr.io/example/agent:1");
  assert.is(smolfile.cpus, 2);
  assert.is(smolfile.memory, 4096);
  assert.is(smolfile.workdir, "/workspace");
  assert.is(smolfile.net, false);
});

test("the machine runs a long-lived sh loop that exits cleanly on TERM", () => {
  const smolfile = render();
  assert.equal(smolfile.entrypoint, ["/bin/sh", "-c"]);
  assert.is(smolfile.cmd.length, 1);
  assert.match(smolfile.cmd[0], /trap 'exit 0' TERM INT/);
  assert.match(smolfile.cmd[0], /while :; do/);
});

test("env is the agent's env sorted by key, then the proxy in all four spellings", () => {
  assert.equal(render().env, [
    "EDITOR=vi",
    "TERM=xterm-256color",
    `HTTPS_PROXY=${PROXY}`,
    `HTTP_PROXY=${PROXY}`,
    `https_proxy=${PROXY}`,
    `http_proxy=${PROXY}`,
  ]);
});

test("a proxy variable in the agent's env cannot redirect the proxy", () => {
  const c = config();
  c.agent.env = { HTTPS_PROXY: "http://evil.example:1", A: "1" };
  const env: string[] = render(c).env;
  assert.not.ok(env.includes("HTTPS_PROXY=http://evil.example:1"));
  assert.is(env.filter((e) => e.startsWith("HTTPS_PROXY=")).length, 1);
  assert.ok(env.includes(`HTTPS_PROXY=${PROXY}`));
});

test("secrets are host-env references, and a secret's value never reaches the file", () => {
  const canary = "canary-" + randomBytes(12).toString("hex");
  process.env.HOST_ANTHROPIC_KEY = canary;
  try {
    const c = config();
    c.agent.secrets = {
      GH_TOKEN: { fromEnv: "HOST_GH_TOKEN" },
      ANTHROPIC_API_KEY: { fromEnv: "HOST_ANTHROPIC_KEY" },
    };
    const text = renderSmolfile({ config: c, pipelockPort: 41234, guestDirHost: GUEST_DIR_HOST });
    assert.not.match(text, canary);
    assert.equal(JSON.parse(JSON.stringify(parse(text).secrets)), {
      ANTHROPIC_API_KEY: { from_env: "HOST_ANTHROPIC_KEY" },
      GH_TOKEN: { from_env: "HOST_GH_TOKEN" },
    });
  } finally {
    delete process.env.HOST_ANTHROPIC_KEY;
  }
});

test("no secrets: no secrets table", () => {
  const c = config();
  c.agent.secrets = {};
  assert.not.ok("secrets" in render(c));
});

test("volumes: the workspace read-write, and the guest dir read-only at /opt/bottle", () => {
  assert.equal(render().volumes, [
    "/home/me/project:/workspace",
    `${GUEST_DIR_HOST}:/opt/bottle:ro`,
  ]);
});

test("a read-only workspace is mounted with :ro", () => {
  const smolfile = render(config({ workspace: { host: "/src", guest: "/w", readOnly: true } }));
  assert.equal(smolfile.volumes, ["/src:/w:ro", `${GUEST_DIR_HOST}:/opt/bottle:ro`]);
});

test("no workspace: only the guest dir is mounted", () => {
  assert.equal(render(config({ workspace: null })).volumes, [`${GUEST_DIR_HOST}:/opt/bottle:ro`]);
});

test("a volume path containing ':' is refused rather than mis-split", () => {
  assert.throws(
    () => render(config({ workspace: { host: "/a:b", guest: "/w", readOnly: false } })),
    /may not contain ":"/,
  );
});

test("the same config renders the same bytes, whatever its key order", () => {
  const a = config();
  a.agent.secrets = { A_KEY: { fromEnv: "HOST_A" }, B_KEY: { fromEnv: "HOST_B" } };
  const b = config();
  b.agent.env = { EDITOR: "vi", TERM: "xterm-256color" };
  b.agent.secrets = { B_KEY: { fromEnv: "HOST_B" }, A_KEY: { fromEnv: "HOST_A" } };
  const opts = { pipelockPort: 41234, guestDirHost: GUEST_DIR_HOST };
  assert.is(renderSmolfile({ config: a, ...opts }), renderSmolfile({ config: b, ...opts }));
});

test("the git gate: git rewrites each remote's URL to the gate, NO_PROXY keeps it off pipelock, and no token is written", () => {
  const gitGate = {
    remotes: {
      origin: { url: "https://git.example.com/team/app.git", token: { fromEnv: "HOST_GIT_TOKEN", username: "x-access-token" }, push: ["agent/*"], allowForcePush: false, allowDelete: false },
      docs: { url: "https://git.example.com/team/docs.git", token: { fromEnv: "HOST_DOCS_TOKEN", username: "x-access-token" }, push: [], allowForcePush: false, allowDelete: false },
    },
  };
  const withGate = config({ gitGate });
  withGate.agent.env = { ...withGate.agent.env, NO_PROXY: "localhost,proxy.internal" };
  const text = renderSmolfile({ config: withGate, pipelockPort: 41234, gitGatePort: 45678, guestDirHost: GUEST_DIR_HOST });
  const env = (parse(text) as { env: string[] }).env;
  for (const entry of [
    "GIT_CONFIG_COUNT=2",
    "GIT_CONFIG_KEY_0=url.http://proxy.internal:45678/docs.git.insteadOf",
    "GIT_CONFIG_VALUE_0=https://git.example.com/team/docs.git",
    "GIT_CONFIG_KEY_1=url.http://proxy.internal:45678/origin.git.insteadOf",
    "GIT_CONFIG_VALUE_1=https://git.example.com/team/app.git",
    "NO_PROXY=localhost,proxy.internal",
    "no_proxy=proxy.internal",
    `HTTPS_PROXY=${PROXY}`,
  ]) {
    assert.ok(env.includes(entry), `${entry} missing from ${JSON.stringify(env)}`);
  }
  assert.not.match(text, "HOST_GIT_TOKEN");
  assert.not.match(text, "HOST_DOCS_TOKEN");
  // Without the built-in gate (or its port), none of it.
  const plain = (parse(renderSmolfile({ config: config(), pipelockPort: 41234, gitGatePort: 45678, guestDirHost: GUEST_DIR_HOST })) as { env: string[] }).env;
  assert.not.ok(plain.some((entry) => entry.startsWith("GIT_CONFIG_") || entry.startsWith("NO_PROXY")));
});

test.run();
