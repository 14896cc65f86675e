// What every bottle task receives: the validated config and where things go.
import type { BottleConfig } from "./config/resolved.js";

export interface BottleContext {
  config: BottleConfig;
  configPath: string;
  stageDir: string;
  runDir: string;
  platform: NodeJS.Platform;
  /** Where bottle looks for its tools: PATH as the user ran bottle with it, then bottle's .tools/bin. */
  pathEnv: string;
  /** Present only while launching: the process side's services. */
  launch?: unknown;
}
