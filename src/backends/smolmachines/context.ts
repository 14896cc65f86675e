// What every task and launch step of a bottle is given: the validated
// config and where things go. A launch adds its services (steps/services.ts).
import type { BottleConfig } from "../../config/resolved.js";

export interface BuildContext {
  readonly config: BottleConfig;
  readonly configPath: string;
  readonly stageDir: string;
  readonly runDir: string;
  readonly platform: NodeJS.Platform;
  /** Where bottle looks for its tools: PATH as the user ran bottle with it, then bottle's .tools/bin (workspaces left out). */
  readonly pathEnv: string;
}
