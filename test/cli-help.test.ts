// The CLI's help: `bottle help CMD` is `bottle CMD --help`, a mistyped
// command gets the closest one suggested, and each command's --help
// describes options it has (ls prints a JSON array, not progress events).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runBottle } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const cwd = tempDir("help-");
const bottle = (...args: string[]) => runBottle(args, { cwd });

test("`bottle help CMD` prints that command's help, exit 0", () => {
  for (const command of ["build", "launch", "init", "doctor", "ls"]) {
    const help = bottle("help", command);
    assert.is(help.code, 0, command);
    assert.is(help.stdout, bottle(command, "--help").stdout, command);
    assert.match(help.stdout, `usage: bottle ${command}`);
  }
  assert.match(bottle("help").stdout, "usage: bottle <command>");
});

test("a mistyped command: exit 2 and the closest command suggested, when one is close", () => {
  for (const [typo, meant] of [["bulid", "build"], ["lunch", "launch"], ["docter", "doctor"], ["Build", "build"]] as const) {
    const run = bottle(typo);
    assert.is(run.code, 2, typo);
    assert.match(run.stderr, `unknown command \`${typo}\` (did you mean \`${meant}\`?)`);
  }
  const far = bottle("xyzzy");
  assert.is(far.code, 2);
  assert.not.match(far.stderr, "did you mean");
  assert.match(bottle("help", "bulid").stderr, "did you mean `build`?");
});

test("ls --help offers what ls does: a JSON array, no progress", () => {
  const help = bottle("ls", "--help").stdout;
  assert.match(help, "--json");
  assert.match(help, "print the bottles as one JSON array");
  assert.not.match(help, "progress");
});

test.run();
