/**
 * cutover as a library: every CLI command that acts on a deployment, as a function that resolves to a
 * typed result (a discriminated union on `type`, failures included) instead of throwing or exiting.
 * Importing this module runs nothing; the CLI is `bin/cutover.js`.
 *
 * The functions are re-declared with their public options only: what the CLI passes them besides
 * (its log, its clock) is not for callers.
 */
import { abort as abortWith, type AbortOptions } from './api/abort.js';
import { deploy as deployWith, type DeployOptions } from './api/deploy.js';
import { history as historyWith, type HistoryOptions } from './api/history.js';
import { plan as planWith, type PlanOptions } from './api/plan.js';
import { report as reportWith, type ReportOptions } from './api/report.js';
import {
  pause as pauseWith,
  promote as promoteWith,
  resume as resumeWith,
  type PromoteOptions,
  type RequestOptions,
} from './api/request.js';
import type {
  AbortResult,
  DeployResult,
  HistoryResult,
  PlanResult,
  PromoteResult,
  ReportResult,
  RequestResult,
  RollbackResult,
  StatusResult,
} from './api/results.js';
import { rollback as rollbackWith, type RollbackOptions } from './api/rollback.js';
import {
  status as statusWith,
  watchStatus as watchStatusWith,
  type StatusOptions,
  type WatchOptions,
} from './api/status.js';

/**
 * Brings up a green fleet of `version`, checks it, moves traffic to it with the environment's strategy,
 * bakes it, and keeps blue as the standby. Any failure before green is live puts traffic back on blue
 * and resolves `failed`.
 */
export const deploy: (options: DeployOptions) => Promise<DeployResult> = deployWith;
/** Moves all traffic back to the standby in one change, launching nothing. */
export const rollback: (options: RollbackOptions) => Promise<RollbackResult> = rollbackWith;
/** Moves the running deploy past its current step or gate; goes on with one detached at its gate. */
export const promote: (options: PromoteOptions) => Promise<PromoteResult> = promoteWith;
/** Holds the running deploy at its current weight (green stays watched) until `resume`. */
export const pause: (options: RequestOptions) => Promise<RequestResult> = pauseWith;
export const resume: (options: RequestOptions) => Promise<RequestResult> = resumeWith;
/** Stops a running deploy (traffic back on blue), or undoes one whose controller is gone. */
export const abort: (options: AbortOptions) => Promise<AbortResult> = abortWith;
/** The live version, the standby, every fleet, the last deployment and the lock. Reads only. */
export const status: (options: StatusOptions) => Promise<StatusResult> = statusWith;
/** The status now, then again whenever it changes, until `signal` aborts. */
export const watchStatus: (options: WatchOptions) => AsyncGenerator<StatusResult> = watchStatusWith;
/** Every call a deploy of `version` would make from here, in order; changes nothing. */
export const plan: (options: PlanOptions) => Promise<PlanResult> = planWith;
/** Past deployments and rollbacks from this runner's journal, newest first. */
export const history: (options: HistoryOptions) => Promise<HistoryResult> = historyWith;
/** Writes a self-contained HTML page of a deployment's timeline, from this runner's journal. */
export const report: (options: ReportOptions) => Promise<ReportResult> = reportWith;

export type {
  AbortOptions,
  DeployOptions,
  HistoryOptions,
  PlanOptions,
  PromoteOptions,
  ReportOptions,
  RequestOptions,
  RollbackOptions,
  StatusOptions,
  WatchOptions,
};
export type { CommandOptions } from './api/perform.js';
export type { ServiceOptions, ConfigOptions } from './controller/runtime.js';
export type { StatusDocument } from './controller/status.js';
export type { HistoryEntry } from './controller/history.js';
export type { CutoverEvent, EventCode, EventPayloads, Level } from './events.js';
export type { LockHolder } from './state/lock.js';
export {
  exitCodeOf,
  type Aborted,
  type AbortResult,
  type Answered,
  type AwaitingApproval,
  type Deployed,
  type DeployResult,
  type Failed,
  type Failure,
  type History,
  type HistoryResult,
  type Locked,
  type Planned,
  type PlanResult,
  type PromoteResult,
  type Rejected,
  type Reported,
  type RequestResult,
  type Result,
  type RolledBack,
  type RollbackResult,
  type Status,
  type StatusResult,
} from './api/results.js';
