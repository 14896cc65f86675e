// displayPath's shortcuts (a plain relative path, a plain absolute one)
// give what resolving the path and asking path.relative gives.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isAbsolute, relative, resolve } from "node:path";
import { displayPath } from "../src/graph/observe.js";
import { isBelow } from "../src/lib/path-checks.js";

function resolved(root: string, path: string): { display: string; absolute: string; inside: boolean } {
  const absolute = isAbsolute(path) ? resolve(path) : resolve(root, path);
  const inside = isBelow(root, absolute);
  return { display: inside ? relative(root, absolute) : absolute, absolute, inside };
}

const ROOTS = ["/tmp/stage", "/tmp/stage/", "/tmp/./stage", "/", "/tmp/st"];
const PATHS = [
  "/tmp/stage/out.txt",
  "/tmp/stage/a/b.txt",
  "/tmp/stage",
  "/tmp/stage/",
  "/tmp/stagex/out.txt",
  "/tmp/st/x",
  "/tmp/stage/../other.txt",
  "/tmp/stage/./out.txt",
  "/tmp//stage/out.txt",
  "/etc/hosts",
  "/tmp/stage/..x/y",
  "/tmp/stage/.hidden",
];

test("an absolute path is shown as path.relative and path.resolve would show it, for clean and unclean roots and paths", () => {
  for (const root of ROOTS) {
    for (const path of PATHS) {
      const { display, absolute, inside } = displayPath(root, path);
      assert.equal({ display, absolute, inside }, resolved(root, path), `${root} + ${path}`);
    }
  }
});

test.run();
