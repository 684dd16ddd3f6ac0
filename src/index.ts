/**
 * cutover as a library: every CLI command that acts on a deployment, as a function that resolves to a
 * typed result (a discriminated union on `type`, failures included) instead of throwing or exiting.
 * Importing this module runs nothing; the CLI is `bin/cutover.js`.
 */
export { deploy, type DeployOptions } from './api/deploy.js';
export { rollback, type RollbackOptions } from './api/rollback.js';
export { promote, pause, resume, type PromoteOptions, type RequestOptions } from './api/request.js';
export { abort, type AbortOptions } from './api/abort.js';
export { status, watchStatus, type StatusOptions, type WatchOptions } from './api/status.js';
export { plan, type PlanOptions } from './api/plan.js';
export type { CommandOptions } from './api/perform.js';
export type { ServiceOptions, ConfigOptions } from './controller/runtime.js';
export type { StatusDocument } from './controller/status.js';
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
  type Locked,
  type Planned,
  type PlanResult,
  type PromoteResult,
  type Rejected,
  type RequestResult,
  type Result,
  type RolledBack,
  type RollbackResult,
  type Status,
  type StatusResult,
} from './api/results.js';
