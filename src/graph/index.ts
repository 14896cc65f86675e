// The generic build-graph engine: declare tasks, plan, run, explain.
export type { Json } from "./json.js";
export { canonicalJson, hashJson, flattenInputs } from "./json.js";
export type { TaskDeclaration, TaskDef, TaskRun, TaskFailure, FailureReason, WriteOptions } from "./task.js";
export { taskDefiner, resultOf, type AnyTask, type Needs, type NeedResults, type ResultOf, type Task, type TaskSpec, type TypedRun } from "./typed.js";
export { analyzeGraph, closure, describeProblem, type Graph, type GraphProblem } from "./analyze.js";
export { planGraph, runGraph, STATE_FILE, STAMP_FILE, LOCK_FILE, type PlanOptions, type RunOptions, type RunResult } from "./run.js";
export type { Plan, PlanEntry, PlanStatus } from "./plan.js";
export { describeReason, type Reason } from "./reasons.js";
export type { EngineEvent, TaskStatus, Summary, PlanEntryStub } from "./events.js";
export { exportGraph, GRAPH_FORMATS, isGraphFormat, type GraphFormat } from "./export.js";
export { explainPlan, explainEntry } from "./explain.js";
export { acquireStageLock, type LockHolder, type StageLock } from "./lock.js";
export { STATE_FORMAT } from "./state.js";
