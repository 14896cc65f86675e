// The example bottle: Claude Code working in ./example-workspace, able to
// reach Anthropic's API (the claude-code preset: `bottle policy` lists it)
// and the npm registry (to install itself and packages), and nothing else. The workspace holds neither this file nor
// the stage dir: the agent must not be able to edit what confines it.
import { defineConfig } from "bottle-agent";

export default defineConfig({
  name: "example",
  image: "node:22-bookworm-slim",
  agent: {
    command: ["npx", "--yes", "@anthropic-ai/claude-code"],
    // No telemetry, error reporting or auto-updates: the preset leaves their hosts out.
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
    // The agent never holds the API key: its ANTHROPIC_API_KEY is a
    // placeholder, and bottle's injector puts the real key (from the host
    // variable, never written to any file) into requests to Anthropic's API,
    // which Claude Code sends to ANTHROPIC_BASE_URL after pipelock has
    // scanned them.
    secrets: {
      ANTHROPIC_API_KEY: {
        fromEnv: "ANTHROPIC_API_KEY",
        inject: { host: "api.anthropic.com", header: "x-api-key", baseUrlEnv: "ANTHROPIC_BASE_URL" },
      },
    },
  },
  workspace: { host: "./example-workspace", guest: "/workspace" },
  resources: { cpus: 2, memoryMiB: 4096 },
  egress: { presets: ["claude-code"], allow: ["registry.npmjs.org"] },
  gitGate: false,
  supervise: false,
  guest: { gvforwarder: "image" },
});
