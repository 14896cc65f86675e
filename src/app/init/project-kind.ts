// What a project is, told from the files at its top, and the hosts its
// package tools need: what `bottle init` suggests for egress.allow, each
// with the file that suggested it. Suggestions only: the user reads them in
// the config and keeps what they need.

export interface HostSuggestion {
  host: string;
  /** Why, as a comment in the config: what needs it. */
  why: string;
}

export interface Ecosystem {
  name: string;
  /** Any of these at the project's top marks it. */
  markers: readonly string[];
  hosts: readonly HostSuggestion[];
}

export const ECOSYSTEMS: readonly Ecosystem[] = [
  {
    name: "npm",
    markers: ["package.json"],
    hosts: [{ host: "registry.npmjs.org", why: "npm's registry: package metadata and tarballs (npm, pnpm, yarn)" }],
  },
  {
    name: "Python",
    markers: ["requirements.txt", "pyproject.toml", "setup.py", "Pipfile"],
    hosts: [
      { host: "pypi.org", why: "PyPI's index (pip, uv, poetry)" },
      { host: "files.pythonhosted.org", why: "PyPI's file host: the packages pip downloads" },
    ],
  },
  {
    name: "Go",
    markers: ["go.mod"],
    hosts: [
      { host: "proxy.golang.org", why: "the Go module proxy (GOPROXY's default)" },
      { host: "sum.golang.org", why: "the Go checksum database (GOSUMDB's default)" },
    ],
  },
  {
    name: "Rust",
    markers: ["Cargo.toml"],
    hosts: [
      { host: "index.crates.io", why: "crates.io's sparse index (cargo's default)" },
      { host: "static.crates.io", why: "crates.io's download host: the crates cargo fetches" },
    ],
  },
];

/** The ecosystems whose markers `has` finds, in ECOSYSTEMS' order. */
export function detectEcosystems(has: (file: string) => boolean): Ecosystem[] {
  return ECOSYSTEMS.filter((ecosystem) => ecosystem.markers.some(has));
}
