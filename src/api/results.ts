import type { LockHolder } from '../state/lock.js';
import { ExitCode } from './exit-codes.js';
import type { StatusDocument } from '../controller/status.js';
import type { HistoryEntry } from '../controller/history.js';

/**
 * What every library call returns instead of throwing: a discriminated union on `type`, failures
 * included, so a caller's `switch` is checked by the compiler. `exitCodeOf` maps each to the CLI's code.
 */

/** A deploy, rollback or request failed. Traffic is where `trafficOn` says (blue, after a failed deploy). */
export interface Failed {
  type: 'failed';
  /** A stable code (`GREEN_UNHEALTHY`, `ABORTED`, …) to match on. */
  code: string;
  /** Where the deployment was when it failed (`launching`, `checking`, `shifting`, `baking`, …), when known. */
  phase: string | null;
  reason: string;
  /** What to do next. */
  hint: string | null;
  /** The version taking the most traffic after the failure, as read back from the target. */
  trafficOn: string | null;
  deployment: string | null;
  /** The version the failed deploy or request was about, when known. */
  version: string | null;
}

/** Bad input (config, arguments, version), or nothing to act on: nothing was changed. */
export interface Rejected {
  type: 'rejected';
  code: string;
  reason: string;
  hint: string | null;
}

/** Another deploy or rollback of this artifact and environment holds the lock. */
export interface Locked {
  type: 'locked';
  code: string;
  reason: string;
  hint: string | null;
  /** Who holds it, when the lock file names a holder. */
  holder: LockHolder | null;
}

export type Failure = Failed | Rejected | Locked;

export interface Deployed {
  type: 'deployed';
  deployment: string;
  version: string;
  /** The version that was live before, now the standby (none on a first deploy). */
  previous: string | null;
  ms: number;
}

/** `deploy --detach`: green is up and checked, with no traffic, until `promote` or `abort` (or `until`). */
export interface AwaitingApproval {
  type: 'awaiting-approval';
  deployment: string;
  version: string;
  /** When the gate closes (ISO 8601). */
  until: string;
  ms: number;
}

export interface RolledBack {
  type: 'rolled-back';
  deployment: string;
  from: string;
  to: string;
  ms: number;
}

/** `promote`, `pause` or `resume` reached the running deploy, which acted on it. */
export interface Answered {
  type: 'promoted' | 'paused' | 'resumed';
  deployment: string;
  /** The deploy's own answer, for people. */
  message: string;
}

export interface Aborted {
  type: 'aborted';
  deployment: string;
  /**
   * `stopped`: the running deploy went back to blue; `undone`: a deploy whose controller was gone (or
   * detached at its gate) was undone here; `settled`: an interrupted one was finished or undone from the
   * journal; `succeeded`: it had gone live before the abort reached it (nothing was undone).
   */
  outcome: 'stopped' | 'undone' | 'settled' | 'succeeded';
}

export interface Status {
  type: 'status';
  /** A fleet takes traffic and at least one of its instances runs. */
  serving: boolean;
  notServing: string | null;
  status: StatusDocument;
  /** The lines `cutover status` prints, for people. */
  text: string;
}

export interface Planned {
  type: 'planned';
  version: string;
  /** Every call a deploy would make from here, in order. */
  calls: string[];
}

export interface History {
  type: 'history';
  /** Newest first. */
  entries: HistoryEntry[];
}

/** A deployment's report page was written. */
export interface Reported {
  type: 'report';
  deployment: string;
  /** The version the deployment deployed or rolled back to. */
  version: string | null;
  /** The file written (absolute). */
  path: string;
  /** How the deployment ended, or the phase it is in. */
  result: string;
}

export type DeployResult = Deployed | AwaitingApproval | Failure;
export type RollbackResult = RolledBack | Failure;
/** A promote of a deploy detached at its gate goes on with that deploy here: `deployed` then. */
export type PromoteResult = Answered | Deployed | Failure;
export type RequestResult = Answered | Failure;
export type AbortResult = Aborted | Failure;
export type StatusResult = Status | Failure;
export type PlanResult = Planned | Failure;
export type HistoryResult = History | Failure;
export type ReportResult = Reported | Failure;

export type Result =
  | DeployResult
  | RollbackResult
  | PromoteResult
  | AbortResult
  | StatusResult
  | PlanResult
  | HistoryResult
  | ReportResult;

/** The CLI's exit code for a result: 0 done, 1 failed (or nothing serves), 2 rejected, 3 locked. */
export function exitCodeOf(result: Result): (typeof ExitCode)[keyof typeof ExitCode] {
  switch (result.type) {
    case 'failed':
      return ExitCode.failed;
    case 'rejected':
      return ExitCode.badInput;
    case 'locked':
      return ExitCode.locked;
    case 'status':
      return result.serving ? ExitCode.ok : ExitCode.failed;
    default:
      return ExitCode.ok;
  }
}
