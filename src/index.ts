// What `import … from "bottle"` gives a config file. Kept to the import-free
// define module so loading a config stays cheap.
export { defineConfig } from "./config/define.js";
export type { BottleConfigInput, SidecarSpec, FromEnv } from "./config/define.js";
