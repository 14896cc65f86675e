// What the probe (in the guest) and the harness (on the host) agree on.

/** What a direct TCP attempt sends first, so the test host can tell it from the proxy's requests. */
export const DIRECT_MARKER = "DIRECT-TCP-PROBE";

/** The probe's result lines on the agent's stdout. */
export const RESULT_PREFIX = "PROBE ";
export const DONE_LINE = "PROBE-DONE";
export const ERROR_PREFIX = "PROBE-ERROR ";

export interface ProbeResult {
  id: string;
  ok: boolean;
  observed: string;
}

/** Steps where the probe waits for the harness: it writes `<step>.ready` in the sync dir, the harness `<step>.go`. */
export const STEPS = ["exposed", "edit-allowlist", "git-secret"] as const;
export type Step = (typeof STEPS)[number];
