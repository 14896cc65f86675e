// Proves a live egress edit is in effect when watch says so, against the
// real pipelock (smolvm and gvproxy are the contract fakes; the agent hangs
// in `smolvm machine exec`): 20 edits in a row, each followed at once by a
// request the edit allows and one it blocks, all judged by the new config.
// pipelock reloads in the background, so "signalled" is not "in effect":
// watch waits for pipelock's log to show the new file's hash. And an edit
// pipelock refuses (a passthrough host added: less is scanned) is reported
// as refused, with the old policy still in force.
//
// No traffic leaves the host: the launch runs in a private mount namespace
// whose /etc/hosts maps every test name to 127.0.0.1 and whose resolver is a
// loopback address nobody answers on. An allowlisted name is then refused
// at the SSRF check ("resolves to internal IP"), a name off the allowlist
// at the allowlist check: the body says which rule judged it.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inPrivateMounts } from "./acceptance/world.js";
import { fakesBinDir } from "./helpers/fakes.js";
import { connectThrough, liveLines, pipelockPort, running } from "./helpers/live-bottle.js";
import { FAKES_BIN } from "./helpers/real-tools.js";
import { requireRoot, requireTools, skipSuite } from "./helpers/skip.js";
import { configSource, editAndSettle, isState, killLeftovers, makeProject, saveConfig, scratchDir, spawnBottle, startWatch, type ProjectConfig } from "./helpers/watch.js";
import { findTool } from "../src/lib/host-tools.js";

const EDITS = 20;
const names = Array.from({ length: EDITS + 1 }, (_, i) => `h${i}.test`);
const missing = requireRoot("a private mount namespace for pipelock's /etc/hosts") ?? requireTools(["pipelock", "unshare", "bwrap"]);

if (missing) {
  skipSuite("watch-live-real-pipelock", missing);
} else {
  test.after.each(killLeftovers);

  test(`${EDITS} live egress edits in a row, real pipelock: the request right after each \`applied live\` is judged by the new config`, async () => {
    const root = scratchDir("bwr-");
    const resolver = { hostsFile: join(root, "hosts"), resolvFile: join(root, "resolv.conf") };
    writeFileSync(resolver.hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${names.join(" ")} pinned.test\n`);
    writeFileSync(resolver.resolvFile, "nameserver 127.0.0.1\n");
    const bin = join(root, "bin");
    mkdirSync(bin);
    for (const fake of ["smolvm", "gvproxy"]) symlinkSync(join(FAKES_BIN, fake), join(bin, fake));
    symlinkSync(findTool("pipelock")!, join(bin, "pipelock"));
    const fakes = join(root, "fakes");
    const config: ProjectConfig = { name: "wlr", env: {}, allow: [names[0]!] };
    const project = makeProject(config, { PATH: `${bin}:${fakesBinDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKES_STATE: fakes });
    const launch = spawnBottle(project, ["launch", "--config", project.config], { env: { FAKE_HANG: "smolvm:exec" }, wrap: (argv) => inPrivateMounts(resolver, argv) });
    await running(launch, fakes);
    const port = pipelockPort(project);
    const allowed = (body: string, host: string) => body === `CONNECT blocked: SSRF blocked: ${host} resolves to internal IP 127.0.0.1`;
    const blocked = (body: string, host: string) => body === `CONNECT blocked: domain not in allowlist: ${host}`;
    assert.ok(allowed((await connectThrough(port, names[0]!)).body, names[0]!), "the launch's own allowlist");

    const w = startWatch(project);
    await w.waitFor(isState("idle"), "the watcher's first build");
    const judged: string[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const [now, before] = [names[i]!, names[i - 1]!];
      const edit = await editAndSettle(w, () => saveConfig(project, { ...config, allow: [now] }), `edit ${i}`);
      const live = liveLines(edit.lines);
      assert.is(live.length, 1, `edit ${i}: ${JSON.stringify(live)}`);
      assert.match(live[0]!, /^applied live: reloaded pipelock \(pid \d+\) now runs pipelock\.yaml [0-9a-f]{12}/, live[0]);
      // At once: no wait between the line and the requests.
      const [added, removed] = await Promise.all([connectThrough(port, now), connectThrough(port, before)]);
      if (!allowed(added.body, now)) judged.push(`edit ${i}: ${now} was judged by the old config: ${added.body}`);
      if (!blocked(removed.body, before)) judged.push(`edit ${i}: ${before} was judged by the old config: ${removed.body}`);
    }
    assert.equal(judged, [], "every request judged by the config watch said was live");

    // A passthrough host added live weakens what pipelock scans: from strict mode it refuses the reload, and watch says so.
    const last = names[EDITS]!;
    const weaker = configSource({ ...config, allow: [last] }).replace(/egress: \{ allow: (\[[^\]]*\]) \}/, `egress: { allow: $1, passthrough: ["pinned.test"] }`);
    assert.match(weaker, "passthrough");
    const refused = await editAndSettle(w, () => saveConfig(project, weaker), "the passthrough edit");
    const said = liveLines(refused.lines);
    assert.is(said.length, 1, JSON.stringify(said));
    assert.match(said[0]!, /^NOT applied: pipelock \(pid \d+\) refused pipelock\.yaml [0-9a-f]{12}: rejected: security downgrade from strict mode; it keeps enforcing the policy it had/, said[0]);
    assert.ok(blocked((await connectThrough(port, "pinned.test")).body, "pinned.test"), "the refused config is not in effect");
    assert.ok(allowed((await connectThrough(port, last)).body, last), "the one before it still is");
    await w.interrupt();
    const stop = spawnBottle(project, ["stop", "wlr"]);
    await stop.exit;
    await launch.ended();
  });

  test.run();
}
