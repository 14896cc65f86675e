// Proves the pipelock contract fake's failure injection, which the launch
// suites use (the real pipelock runs in the real-network suites): FAKE_FAIL
// makes it exit before listening, FAKE_HANG makes it wait, never listening,
// until it is signalled.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { stringify } from "yaml";
import { type Exit, fakesEnv, freePort, makeStateDir, readPipelockEvents, runFake, type RunningFake, startFake, waitForFile } from "./helpers/fakes.js";

type Config = Record<string, any>;

function baseConfig(): Config {
  return {
    version: 1,
    mode: "strict",
    enforce: true,
    forward_proxy: { enabled: true },
    dlp: { scan_env: false, include_defaults: true },
    api_allowlist: ["api.example.com", "*.allowed.test"],
  };
}

interface World {
  state: string;
  configPath: string;
  port: number;
  write(config: Config | string): void;
  start(extraArgs?: string[], extraEnv?: Record<string, string>): Promise<RunningFake>;
  run(args: string[], extraEnv?: Record<string, string>): Promise<Exit>;
}

async function withWorld(body: (w: World) => Promise<void>): Promise<void> {
  const root = makeStateDir("fakes-pl-");
  const configPath = join(root, "pipelock.yaml");
  const state = join(root, "state");
  const port = await freePort();
  const running: RunningFake[] = [];
  const w: World = {
    state,
    configPath,
    port,
    write: (config) => writeFileSync(configPath, typeof config === "string" ? config : stringify(config)),
    async start(extraArgs = [], extraEnv = {}) {
      const args = ["run", "--config", configPath, "--listen", `127.0.0.1:${port}`, ...extraArgs];
      const fake = startFake("pipelock", args, fakesEnv(state, extraEnv));
      running.push(fake);
      return fake;
    },
    run: (args, extraEnv = {}) => runFake("pipelock", args, fakesEnv(state, extraEnv)),
  };
  w.write(baseConfig());
  try {
    await body(w);
  } finally {
    for (const fake of running) fake.child.kill("SIGTERM");
    await Promise.all(running.map((f) => f.exit));
    rmSync(root, { recursive: true, force: true });
  }
}

test("FAKE_FAIL=pipelock exits 1 before listening; FAKE_HANG=pipelock never listens until signalled", () =>
  withWorld(async (w) => {
    const failed = await w.run(["run", "--config", w.configPath, "--listen", `127.0.0.1:${w.port}`], { FAKE_FAIL: "pipelock" });
    assert.is(failed.code, 1);
    assert.match(failed.stderr, /^Error: /);
    assert.equal(readPipelockEvents(w.state), []);

    const hung = await w.start([], { FAKE_HANG: "pipelock" });
    const marker = join(w.state, "hang", "pipelock");
    await waitForFile(marker);
    assert.is(readFileSync(marker, "utf8").trim(), String(hung.child.pid));
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(w.port, "127.0.0.1");
      socket.on("connect", () => (socket.destroy(), resolve(false)));
      socket.on("error", () => resolve(true));
    });
    assert.ok(refused, "a hung pipelock is not listening");
    hung.child.kill("SIGTERM");
    assert.is((await hung.exit).code, 143);
    assert.not.ok(existsSync(join(w.state, "pipelock", "events.jsonl")));
  }));

test.run();
