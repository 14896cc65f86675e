// The config `bottle init` writes: Claude Code in the project, reaching
// Anthropic's API through the claude-code preset with its key injected (the
// agent holds a placeholder), and each suggested host commented with why.
// Pure: text in, text out.
import { PACKAGE_NAME } from "../../config/package-name.js";
import type { Ecosystem } from "./project-kind.js";

export interface InitConfig {
  name: string;
  /** The project (absolute): mounted read-write at /workspace. */
  project: string;
  ecosystems: readonly Ecosystem[];
}

const q = (text: string): string => JSON.stringify(text);

export function renderInitConfig({ name, project, ecosystems }: InitConfig): string {
  const allow = ecosystems.flatMap((ecosystem) =>
    ecosystem.hosts.map((h) => `      ${q(h.host)}, // ${h.why}; suggested because of ${ecosystem.markers.join(" / ")}`),
  );
  return [
    `// The bottle for ${project}, written by \`bottle init\`. It lives outside the`,
    "// project on purpose: the agent can write the project, and must not be",
    "// able to edit what confines it. Edit freely; `bottle policy` shows what",
    "// the bottle may reach, `bottle doctor` whether this machine can run it.",
    `import { defineConfig } from ${q(PACKAGE_NAME)};`,
    "",
    "export default defineConfig({",
    `  name: ${q(name)},`,
    '  image: "node:22-bookworm-slim",',
    "  agent: {",
    '    command: ["npx", "--yes", "@anthropic-ai/claude-code"],',
    '    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },',
    "    // The agent holds a placeholder, never your key: bottle puts the key",
    "    // (from your ANTHROPIC_API_KEY) into its requests to the API.",
    "    secrets: {",
    "      ANTHROPIC_API_KEY: {",
    '        fromEnv: "ANTHROPIC_API_KEY",',
    '        inject: { host: "api.anthropic.com", header: "x-api-key", baseUrlEnv: "ANTHROPIC_BASE_URL" },',
    "      },",
    "    },",
    "  },",
    `  workspace: { host: ${q(project)}, guest: "/workspace" },`,
    "  egress: {",
    '    presets: ["claude-code"],',
    allow.length ? "    allow: [" : "    allow: [],",
    ...(allow.length ? [...allow, "    ],"] : []),
    "  },",
    "});",
    "",
  ].join("\n");
}

/** A valid bottle name from a directory's name: lowercase letters, digits and single hyphens, at most 40. */
export function nameFromDir(dirName: string): string {
  const slug = dirName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return slug || "project";
}
