// Proves the loop `bottle blocked` → `bottle allow` closes without a restart
// or an editor (contract fakes; the agent hangs in `smolvm machine exec`):
// a host the running bottle refused, allowed with `bottle allow` while
// `bottle watch` runs on its config, is let through by the same pipelock
// after one live reload, and the machine is not restarted.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fakesBinDir, readPipelockEvents, readSmolvmCalls, waitForChange } from "./helpers/fakes.js";
import { connectThrough, liveLines, pipelockPort, running } from "./helpers/live-bottle.js";
import { bottle, editAndSettle, isState, killLeftovers, makeProject, meaningfulTasks, scratchDir, spawnBottle, startWatch, type ProjectConfig } from "./helpers/watch.js";

test.after.each(killLeftovers);

test("with `bottle watch` running, `bottle allow` lets the refused host through live: one reload of the same pipelock, nothing restarted", async () => {
  const config: ProjectConfig = { name: "bal", env: {}, allow: ["a.example.com"] };
  const fakes = scratchDir("bal-fakes-");
  const project = makeProject(config, { PATH: `${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
  const launch = spawnBottle(project, ["launch", "--config", project.config], { env: { FAKE_HANG: "smolvm:exec" } });
  await running(launch, fakes);
  const port = pipelockPort(project);
  assert.equal(await connectThrough(port, "b.example.com"), { status: 403, body: "blocked: domain not in allowlist: b.example.com" });
  const record = join(project.stage, "blocked.jsonl");
  await waitForChange(record, () => (existsSync(record) && readFileSync(record, "utf8").includes('"b.example.com"') ? true : undefined), 20_000, "the refusal in blocked.jsonl");
  const suggested = bottle(project, ["blocked", "bal"]).stdout;
  assert.match(suggested, "or run: bottle allow bal b.example.com");

  const w = startWatch(project);
  await w.waitFor(isState("idle"), "the watcher's first build");
  const calls = readSmolvmCalls(fakes).length;
  let run: ReturnType<typeof bottle> | undefined;
  const edit = await editAndSettle(w, () => (run = bottle(project, ["allow", "bal", "b.example.com"])), "bottle allow");
  assert.is(run!.code, 0, run!.stderr);
  assert.match(run!.stdout, "bal is running: a `bottle watch` on this config applies it live");
  assert.equal(
    meaningfulTasks(edit.runs[0]!.lines).map((t) => t.task),
    ["pipelock.yaml"],
  );
  const live = liveLines(edit.lines);
  assert.is(live.length, 1, JSON.stringify(live));
  assert.match(live[0]!, /^applied live: reloaded pipelock \(pid \d+\)/);
  assert.equal(await connectThrough(port, "b.example.com"), { status: 200, body: "allowed b.example.com" }, "the refused host is let through");
  assert.equal(
    readPipelockEvents(fakes).map((e) => e.event),
    ["started", "reload"],
    "the same pipelock, reloaded once",
  );
  assert.equal(
    readSmolvmCalls(fakes)
      .slice(calls)
      .map((c) => c.argv.join(" "))
      .filter((argv) => /^machine (start|stop|create|delete)\b/.test(argv)),
    [],
    "the machine was not restarted",
  );

  assert.is(bottle(project, ["stop", "bal"]).code, 0);
  assert.equal(await launch.ended(), { code: 0, signal: null }, launch.stderr());
  assert.equal(await w.interrupt(), { code: 0, signal: null });
});

test.run();
