// The names a config imports bottle by: the npm package's, and "bottle"
// (configs written before it was published). Both resolve to bottle's own
// entry point (src/index.ts), whatever directory the config is in.
export const PACKAGE_NAME = "bottle-agent";
export const CONFIG_IMPORT_NAMES: readonly string[] = [PACKAGE_NAME, "bottle"];

export function isBottleImport(specifier: string): boolean {
  return CONFIG_IMPORT_NAMES.includes(specifier);
}
