// `bottle policy` beside a launched bottle (contract fakes; the agent hangs
// in `smolvm machine exec`): the pipelock the launch started logs its config
// hash into <stage>/logs/pipelock.log, so policy says it loaded this exact
// file; after a rebuild it has not reloaded, another one; after the reload
// watch mode would ask for, this one again.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sendControl } from "../src/backends/smolmachines/process/control.js";
import { fakesBinDir, waitForFile, waitForPipelockEvent } from "./helpers/fakes.js";
import { bottle, killLeftovers, makeProject, saveConfig, scratchDir, spawnBottle } from "./helpers/watch.js";

test.after.each(killLeftovers);

function loaded(project: ReturnType<typeof makeProject>): string {
  const run = bottle(project, ["policy", "--json"]);
  assert.is(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { running: { loaded?: string; state: string } }).running.loaded ?? "not running";
}

test("a launched bottle's pipelock loaded this policy; a rebuild it has not reloaded is another; a reload makes it this one again", async () => {
  const fakes = scratchDir("bp-fakes-");
  const config = { name: "pol", env: {}, allow: ["a.example.com"] };
  const project = makeProject(config, { PATH: `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: { FAKE_HANG: "smolvm:exec" } });
  const early = launch.exit.then((exit) => {
    throw new Error(`bottle launch exited (${exit.code ?? exit.signal}) before the agent started\n${launch.stderr()}`);
  });
  await Promise.race([waitForFile(join(fakes, "hang", "smolvm-exec"), 60_000), early]);
  early.catch(() => undefined);

  assert.is(loaded(project), "this policy");

  saveConfig(project, { ...config, allow: ["b.example.com"] });
  assert.is(bottle(project, ["build"]).code, 0);
  assert.is(loaded(project), "another policy", "the fake reloads on SIGHUP only: the new file is not in effect");

  // What `bottle watch` asks a running bottle for after it re-rendered pipelock.yaml.
  assert.match(await sendControl(join(project.runDir, "control.sock"), "reload pipelock", 10_000), /^reloaded/);
  await waitForPipelockEvent(fakes, (e) => e.event === "reload", 10_000);
  assert.is(loaded(project), "this policy");

  assert.is(bottle(project, ["stop", "--config", project.config]).code, 0);
  assert.equal(await launch.ended(), { code: 0, signal: null }, launch.stderr());
  assert.is(loaded(project), "not running");
});

test.run();
