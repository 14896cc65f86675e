// A bottle per agent from one config: `bottle launch --name NAME` (or
// BOTTLE_NAME) is another bottle of that config, with its own stage, run
// dir, ports and machine, so two run at once; `ls` lists both, `stop` and
// `resume` take the name (contract fakes; the agents hang in `machine exec`).
import { existsSync, mkdirSync, readFileSync, watch } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir } from "./helpers/fakes.js";
import { bottle, killLeftovers, makeProject, scratchDir, spawnBottle, type Project } from "./helpers/watch.js";

test.after.each(killLeftovers);

function project(): { project: Project; fakes: string } {
  const fakes = scratchDir("bn-fakes-");
  mkdirSync(join(fakes, "smolvm"));
  const made = makeProject({ name: "shared", env: {}, allow: ["a.example.com"] }, { PATH: `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
  return { project: made, fakes };
}

/** Waits until the agent of `bottle-<name>` is attached for the `times`-th time (its `machine exec` calls in the fake smolvm's record). */
async function attached(fakes: string, name: string, exit: Promise<unknown>, times = 1): Promise<void> {
  const calls = join(fakes, "smolvm", "calls.jsonl");
  const needle = `"exec","--name","bottle-${name}"`;
  const count = () => (existsSync(calls) ? readFileSync(calls, "utf8").split("\n").filter((line) => line.includes(needle)).length : 0);
  const ok = await new Promise<boolean>((resolve) => {
    const watcher = watch(join(fakes, "smolvm"), () => count() >= times && done(true));
    void exit.then(() => done(count() >= times));
    function done(result: boolean): void {
      watcher.close();
      resolve(result);
    }
    if (count() >= times) done(true);
  });
  assert.ok(ok, `bottle ${name} never attached its agent (${times})`);
}

test("two bottles of one config at once: --name and BOTTLE_NAME give each its own stage, run dir, ports and machine", async () => {
  const { project: p, fakes } = project();
  const hang = { FAKE_HANG: "smolvm:exec" };
  const first = spawnBottle(p, ["launch", "--config", p.config, "--name", "agent-one"], { env: hang });
  await attached(fakes, "agent-one", first.exit);
  const second = spawnBottle(p, ["launch", "--config", p.config], { env: { ...hang, BOTTLE_NAME: "agent-two" } });
  await attached(fakes, "agent-two", second.exit);

  const ls = bottle(p, ["ls", "--json"]);
  const rows = (JSON.parse(ls.stdout) as { name: string; state: string; stage: string; ports: Record<string, number> }[]).filter((r) => r.state === "running");
  assert.equal(rows.map((r) => r.name).sort(), ["agent-one", "agent-two"]);
  const [one, two] = ["agent-one", "agent-two"].map((name) => rows.find((r) => r.name === name)!);
  assert.is(one!.stage, join(p.dir, ".bottle", "agent-one"));
  assert.is(two!.stage, join(p.dir, ".bottle", "agent-two"));
  assert.is.not(one!.ports.pipelock, two!.ports.pipelock);
  assert.match(readFileSync(join(p.dir, ".bottle", "agent-two", "smolfile.toml"), "utf8"), "image");

  for (const name of ["agent-one", "agent-two"]) {
    const stop = bottle(p, ["stop", name]);
    assert.is(stop.code, 0, stop.stderr);
  }
  assert.is((await first.exit).code, 0, first.stderr());
  assert.is((await second.exit).code, 0, second.stderr());

  // Resumed by name, it is still that bottle of the config.
  const resumed = spawnBottle(p, ["resume", "agent-two"], { env: hang });
  await attached(fakes, "agent-two", resumed.exit, 2);
  assert.is(bottle(p, ["stop", "agent-two"]).code, 0);
  assert.is((await resumed.exit).code, 0, resumed.stderr());
  const stopWithout = bottle(p, ["stop", "--config", p.config]);
  assert.is(stopWithout.code, 2);
  assert.match(stopWithout.stderr, "was launched as `agent-one`, `agent-two`; pass NAME");
});

test("a bad --name is refused before anything is written", () => {
  const { project: p } = project();
  const run = bottle(p, ["build", "--config", p.config, "--name", "Not A Name"]);
  assert.is(run.code, 2, run.stderr);
  assert.match(run.stderr, "--name: `Not A Name` must be lowercase letters, digits and single hyphens");
});

test.run();
