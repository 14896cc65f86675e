// scripts/tools.mjs as its suites run it: a throwaway checkout holding only
// the script and its pins, the pin a module proxy may refuse, and where a Go
// module mirror keeps a module's versions.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/lib/package-root.js";

export interface ToolPin {
  name: string;
  module: string;
  version: string;
  refusable?: boolean;
}

/** The pins in scripts/tool-pins.json. */
export const TOOL_PINS: readonly ToolPin[] = JSON.parse(readFileSync(join(packageRoot(), "scripts", "tool-pins.json"), "utf8")).tools;

/** The pin marked refusable (the one a mirror serves), if any. */
export const REFUSABLE_PIN: ToolPin | undefined = TOOL_PINS.find((pin) => pin.refusable);

/** A module's `@v` directory in a Go module proxy's layout, relative to the proxy (upper case escaped: "luckyPipewrench" → "lucky!pipewrench"). */
export function proxyVersionsDir(module: string): string {
  return join(module.replace(/[A-Z]/g, (letter) => `!${letter.toLowerCase()}`), "@v");
}

/** `<base>/checkout/scripts` holding a copy of tools.mjs and tool-pins.json; returns that scripts dir. */
export function toolsCheckout(base: string): string {
  const scripts = join(base, "checkout", "scripts");
  mkdirSync(scripts, { recursive: true });
  for (const file of ["tools.mjs", "tool-pins.json"]) copyFileSync(join(packageRoot(), "scripts", file), join(scripts, file));
  return scripts;
}
