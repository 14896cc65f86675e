// smolvm answers "database is locked" while another smolvm holds its
// database; bottle asks again, backing off, for up to a minute. Fifty
// launches at once on one host outlasted the six fixed retries bottle used
// to make (bench/many-bottles.ts), so a busy spell longer than those must
// still end in success, and any other failure is not retried.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Smolvm } from "../src/backends/smolmachines/process/smolvm.js";
import { Supervisor } from "../src/backends/smolmachines/process/supervisor.js";
import { isBottleError } from "../src/lib/errors.js";
import { tempDir } from "./helpers/tmp.js";

/** A smolvm that refuses its first `busy` calls with `refusal`, then answers a running machine; it counts its calls. */
function scriptedSmolvm(busy: number, refusal: string): { binary: string; calls: () => number } {
  const dir = tempDir("smolvm-busy-");
  const count = join(dir, "count");
  writeFileSync(count, "0");
  const binary = join(dir, "smolvm");
  writeFileSync(
    binary,
    `#!/bin/sh\nn=$(($(cat '${count}') + 1))\necho "$n" > '${count}'\nif [ "$n" -le ${busy} ]; then echo 'Error: ${refusal}' >&2; exit 1; fi\necho '{"state":"running","pid":7}'\n`,
  );
  chmodSync(binary, 0o755);
  return { binary, calls: () => Number(readFileSync(count, "utf8")) };
}

function smolvm(binary: string, signal?: AbortSignal): Smolvm {
  return new Smolvm(new Supervisor({ searchPath: "/usr/bin:/bin", cwd: "/" }), binary, signal);
}

test("a database busy for 9 calls (more than the old 6 retries) is asked again until it answers", async () => {
  const fake = scriptedSmolvm(9, "database is locked");
  assert.equal(await smolvm(fake.binary).status("m"), { name: "m", state: "running", pid: 7 });
  assert.is(fake.calls(), 10);
});

test("any other failure is not asked again", async () => {
  const fake = scriptedSmolvm(1, "machine create failed: disk full");
  try {
    await smolvm(fake.binary).status("m");
    assert.unreachable("it succeeded");
  } catch (error) {
    assert.ok(isBottleError(error, "tool-failed"), String(error));
    assert.match((error as Error).message, "disk full");
  }
  assert.is(fake.calls(), 1);
});

test("a launch being stopped does not keep asking a busy database", async () => {
  const fake = scriptedSmolvm(1000, "database is locked");
  const stop = new AbortController();
  stop.abort(new Error("stopping"));
  await smolvm(fake.binary, stop.signal).status("m").then(
    () => assert.unreachable("it succeeded"),
    () => undefined,
  );
  assert.ok(fake.calls() <= 1, `calls: ${fake.calls()}`);
});

test("a start refused as busy that had started the machine: asked again, 'already running' is taken as started once status says running", async () => {
  const dir = tempDir("smolvm-busy-start-");
  const calls = join(dir, "calls");
  const binary = join(dir, "smolvm");
  writeFileSync(
    binary,
    [
      "#!/bin/sh",
      `echo "$2" >> '${calls}'`,
      `n=$(grep -c start '${calls}')`,
      `if [ "$2" = start ] && [ "$n" -eq 1 ]; then echo 'Error: database is locked' >&2; exit 1; fi`,
      `if [ "$2" = start ]; then echo "Error: machine 'm' is already running" >&2; exit 1; fi`,
      `printf '{"state":"%s","pid":7}\\n' "${"$"}{STATE:-running}"`,
      "",
    ].join("\n"),
  );
  chmodSync(binary, 0o755);
  await smolvm(binary).start("m");
  assert.equal(readFileSync(calls, "utf8").trim().split("\n"), ["start", "start", "status"]);

  // Not running after all: the refusal stands.
  writeFileSync(calls, "");
  const stopped = new Smolvm(new Supervisor({ searchPath: "/usr/bin:/bin", cwd: "/" }), binary, undefined, { PATH: "/usr/bin:/bin", STATE: "stopped" });
  await stopped.start("m").then(
    () => assert.unreachable("it succeeded"),
    (error: unknown) => assert.match(String(error), "already running"),
  );
});

test.run();
