// The gate's log: one line per fetch, push and refusal, appended to
// <stage>/logs/git-gate.log by the gate and its hooks alike. Every line
// passes through redact() first: a ref name or an upstream's error may hold
// a secret. node: imports only.
import { appendFileSync } from "node:fs";
import { redact, type Needle } from "./secret-needles.js";

export type GateLog = (line: string) => void;

export function gateLog(path: string, needles: readonly Needle[]): GateLog {
  return (line) => {
    const clean = redact(line, needles).replace(/\s*\n\s*/g, " | ");
    appendFileSync(path, `${new Date().toISOString()} ${clean}\n`, { mode: 0o600 });
  };
}
