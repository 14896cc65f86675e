// bottle resume: see launch.ts.
export { runResume as run } from "./launch.js";
