// What the private-dir and no-follow checks do at their less-travelled
// edges (issue 20: mutants `npm run mutate` left alive in private-dir.ts):
// which sub-directory another uid may own, a dangling symlink with more path
// behind it, an ancestor bottle cannot see into, a path exactly as long as
// bottle's own levels, O_TRUNC applied only when asked, and the error each
// refusal names.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, closeSync, constants, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkPrivateDir } from "../src/lib/private-dir.js";
import { openOwnFileNoFollow, readFileNoFollow, removeOwnedFiles } from "../src/lib/no-follow.js";
import { requireRoot, skipSuite } from "./helpers/skip.js";
import { privateDirOutcome, TEST_DIR_SPEC } from "./helpers/private-dir.js";
import { tempDir } from "./helpers/tmp.js";

const PRIVATE_DIR = new URL("../src/lib/private-dir.js", import.meta.url).href;
const NOBODY = 65534;


/** <tmp>/p/name, private, with name/jail/relays in it (0700, bottle's). */
function runDirWithJail(): { run: string; jail: string; relays: string } {
  const run = join(tempDir("bpo-"), "p", "name");
  const relays = join(run, "jail", "relays");
  mkdirSync(relays, { recursive: true, mode: 0o700 });
  return { run, jail: join(run, "jail"), relays };
}

test("a path exactly as long as bottle's own levels is a programming error too", () => {
  assert.throws(() => checkPrivateDir("/a/b", TEST_DIR_SPEC), /test dir \/a\/b has fewer than 3 levels/);
  assert.throws(() => checkPrivateDir("/a", { ...TEST_DIR_SPEC, privateLevels: 1 }), /has fewer than 2 levels/);
});

const rootReason = requireRoot("it chowns sub-directories to another uid");
if (rootReason !== null) {
  skipSuite("private-dir-owners-and-errors (subdirOwners)", rootReason);
} else {
  test("subdirOwners: each sub-directory may belong to the uid named for its own relative path, and only that one", () => {
    const { run, jail, relays } = runDirWithJail();
    const subdirs = ["jail/relays"];
    chownSync(jail, NOBODY, NOBODY);
    assert.is(privateDirOutcome(run, { subdirs, subdirOwners: { jail: NOBODY } }), true, "jail may be nobody's; relays is still bottle's");
    assert.match(String(privateDirOutcome(run, { subdirs })), `${jail} belongs to uid ${NOBODY}, not to you (uid 0)`);
    assert.match(String(privateDirOutcome(run, { subdirs, subdirOwners: { jail: 1234 } })), `${jail} belongs to uid ${NOBODY}`);

    chownSync(relays, NOBODY, NOBODY);
    assert.is(privateDirOutcome(run, { subdirs, subdirOwners: { jail: NOBODY, "jail/relays": NOBODY } }), true);
    assert.match(String(privateDirOutcome(run, { subdirs, subdirOwners: { jail: NOBODY } })), `${relays} belongs to uid ${NOBODY}`, "jail's owner does not extend to relays");
  });

  test("an ancestor bottle cannot look into is refused naming the directory and EACCES, not taken as missing", () => {
    // As root every lstat succeeds: the check runs as nobody, under a directory of root's nobody can't search.
    const base = tempDir("bpo-");
    const closed = join(base, "closed");
    mkdirSync(join(closed, "p", "name"), { recursive: true, mode: 0o700 });
    chmodSync(base, 0o755);
    const script = `import(${JSON.stringify(PRIVATE_DIR)}).then((m) => console.log(JSON.stringify(m.checkPrivateDir(${JSON.stringify(join(closed, "p", "name"))}, { what: "test dir", privateLevels: 2, fix: "the fix" })))).catch((e) => console.log(e.name, e.message))`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { uid: NOBODY, gid: NOBODY, encoding: "utf8", timeout: 20_000 });
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout, `BottleError cannot check ${join(closed, "p")} (EACCES): bottle needs to see every directory on the way to its own`);
  });
}

test("a dangling ancestor symlink with more path behind it: missing (false), not a crash", () => {
  const base = tempDir("bpo-");
  symlinkSync(join(base, "not-yet"), join(base, "link"));
  assert.is(privateDirOutcome(join(base, "link", "deeper", "p", "name")), false);
});

test("openOwnFileNoFollow empties the file only when the flags say O_TRUNC: an append keeps what is there", () => {
  const dir = tempDir("bpo-");
  const log = join(dir, "run.log");
  writeFileSync(log, "earlier\n", { mode: 0o600 });
  closeSync(openOwnFileNoFollow(log, constants.O_WRONLY | constants.O_APPEND, "the log"));
  assert.is(readFileSync(log, "utf8"), "earlier\n");
  closeSync(openOwnFileNoFollow(log, constants.O_WRONLY | constants.O_TRUNC, "the log"));
  assert.is(readFileSync(log, "utf8"), "");
});

test("the no-follow openers name what they refused: a directory is not a regular file, and an errno that is not theirs passes through", () => {
  const dir = tempDir("bpo-");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "file"), "x");
  assert.throws(() => openOwnFileNoFollow(join(dir, "sub"), constants.O_RDONLY, "the log"), /refusing to write the log .*sub: it is not a plain file of its own \(not a regular file\); remove it/);
  assert.throws(() => openOwnFileNoFollow(join(dir, "missing", "x.log"), constants.O_WRONLY | constants.O_CREAT, "the log"), (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT");
  assert.throws(() => readFileNoFollow(join(dir, "file", "x")), (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOTDIR");
});

test("removeOwnedFiles on a root that is a file throws ENOTDIR rather than reporting it empty", () => {
  const root = join(tempDir("bpo-"), "root");
  writeFileSync(root, "not a dir");
  assert.throws(() => removeOwnedFiles(root, () => "file", { keepRoot: true }), (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOTDIR");
  assert.is(readFileSync(root, "utf8"), "not a dir");
});

test.run();
