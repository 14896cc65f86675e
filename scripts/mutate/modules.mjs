// The security modules `npm run mutate` mutates, and for each source file
// the test suites that can kill its mutants (suite file names without
// `.test.ts`), fastest first: run-tests.mjs stops at the first failure. A
// mutant runs only its file's suites: that is what keeps a run of every
// module within an hour on 2 cores. Slow suites that only repeat what a
// faster one checks (config-validation, the lifecycle ones) are left out on
// purpose.
const JAIL_SUITES = ["jail-host-side-edges", "jail-args", "jail-pipe-both", "jail-seccomp-filter", "jail-dir", "jail-ordinary-user", "jail-relay", "jail-isolation", "jail-gvproxy"];
const GATE_SUITES = ["gitgate-hook-fail-closed", "gitgate-log-symlink", "gitgate-fail-closed", "gitgate-upstream-push", "gitgate-moved-tag", "gitgate-push"];

export const MODULES = [
  { name: "jail", files: { "src/backends/smolmachines/jail/*.ts": JAIL_SUITES } },
  {
    name: "private dirs",
    files: {
      "src/lib/private-dir.ts": ["private-dirs", "private-dir-edges", "launch-logs", "no-follow-readers", "attack-registry-entry", "attack-run-dir", "gitgate-log-symlink", "attack-stage-dir"],
      "src/lib/no-follow.ts": ["private-dir-edges", "no-follow-readers", "launch-logs", "private-dirs", "attack-registry-entry", "attack-run-dir", "gitgate-log-symlink", "attack-stage-dir"],
    },
  },
  {
    name: "host tools",
    files: { "src/lib/host-tools.ts": ["host-tools-lookup", "host-tools-symlinked-workspace", "smol-preflight-tools", "attack-workspace-programs", "test-runner-skips"] },
  },
  {
    name: "config confinement",
    files: {
      "src/lib/path-checks.ts": ["config-host-checks", "config-confinement", "host-tools-symlinked-workspace", "config-confinement-symlinked-dirs", "config-imports-confinement", "attack-planted-config"],
      "src/config/host-checks.ts": ["config-host-checks", "config-confinement", "host-tools-symlinked-workspace", "config-confinement-symlinked-dirs", "config-imports-confinement", "attack-planted-config"],
      "src/config/import-graph.ts": ["config-import-graph-forms", "config-imports-template-require", "config-imports-symlinked-packages", "config-imports-confinement", "attack-planted-config"],
    },
  },
  { name: "egress checks", files: { "src/config/egress-host.ts": ["config-egress-host-literal", "config-egress-suffix-data-shape", "config-egress-allow", "config-confinement"] } },
  { name: "pipelock renderer", files: { "src/backends/smolmachines/render/pipelock.ts": ["smol-render-pipelock", "pipelock-ssrf-ranges"] } },
  {
    name: "git gate",
    files: {
      "src/gitgate/push-check.ts": GATE_SUITES,
      "src/gitgate/secret-needles.ts": ["gitgate-secret-needles-literal", "gitgate-secret-needles", "gitgate-push"],
      "src/gitgate/pre-receive.ts": GATE_SUITES,
    },
  },
  {
    name: "process identity",
    files: {
      "src/backends/smolmachines/process/identity.ts": ["process-identity", "process-recycled-pid", "private-dirs", "attack-run-dir"],
      "src/lib/proc.ts": ["proc-descendants", "process-identity", "process-recycled-pid", "private-dirs", "attack-run-dir"],
    },
  },
];

/** Every file pattern, for Stryker's `mutate`. */
export function mutatePatterns(modules = MODULES) {
  return modules.flatMap((module) => Object.keys(module.files));
}

/** Every suite any module runs (the dry run's). */
export function allSuites(modules = MODULES) {
  return [...new Set(modules.flatMap((module) => Object.values(module.files).flat()))];
}

/** The module and suites of a source file (relative to the repo root), or undefined. */
export function suitesOf(file) {
  for (const module of MODULES) {
    for (const [pattern, suites] of Object.entries(module.files)) if (matches(pattern, file)) return { module: module.name, suites };
  }
  return undefined;
}

/** Just enough of glob for the patterns above: `*` within one path segment. */
export function matches(pattern, file) {
  const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")}$`);
  return regex.test(file);
}
