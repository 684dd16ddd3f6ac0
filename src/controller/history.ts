import { hostname } from 'node:os';
import { isStale, lockPath, readLock } from '../state/lock.js';
import type { FleetInfo, TargetRecord } from '../providers/types.js';
import type { DeploymentRecord, Journal } from '../state/journal.js';

/** One past deployment or rollback, as `cutover history` shows it. */
export interface HistoryEntry {
  deployment: string;
  kind: 'deploy' | 'rollback';
  version: string | null;
  /** Who started it, when the journal recorded it (since issue 11). */
  by: string | null;
  strategy: string | null;
  /** ISO 8601. */
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** `succeeded`, `failed`, or the phase an unfinished one is in (`awaiting-approval`, `baking`, …). */
  result: string;
  /** What failed, and where. */
  reason: string | null;
  failedIn: string | null;
  /** `journal`: this runner ran it; `target`: only the target (aws) remembers it, with less detail. */
  source: 'journal' | 'target';
}

const ended = new Set(['succeeded', 'failed']);

/** Whether this runner can tell that a deployment's controller runs: the lock's live holder here. */
export interface Liveness {
  /** The deployment a live process here holds the lock for. */
  running: string | undefined;
  /** False when the lock is held from another machine, whose processes cannot be judged from here. */
  canTell: boolean;
  now: number;
}

/**
 * How an unfinished deployment stands: still running, waiting at its gate, or left behind by a
 * controller that is gone (killed) or a gate that closed, which the next command undoes. Finished ones
 * are as recorded.
 */
export function standing(
  record: Pick<DeploymentRecord, 'deployment' | 'phase' | 'gateUntil' | 'reason' | 'failedIn'>,
  liveness: Liveness | undefined,
): { result: string; reason: string | null; failedIn: string | null } {
  const asRecorded = {
    result: record.phase as string,
    reason: record.phase === 'failed' ? (record.reason ?? null) : null,
    failedIn: record.failedIn ?? null,
  };
  if (ended.has(record.phase) || !liveness) return asRecorded;
  if (record.phase === 'awaiting-approval') {
    if (record.gateUntil === undefined || record.gateUntil > liveness.now) return asRecorded;
    return {
      result: 'approval gate closed',
      reason: `nobody promoted it before its approval gate closed at ${new Date(record.gateUntil).toISOString()}; the next deploy, rollback or abort undoes what is left`,
      failedIn: 'awaiting-approval',
    };
  }
  if (!liveness.canTell || liveness.running === record.deployment) return asRecorded;
  return {
    result: 'interrupted',
    reason: `its controller is gone (killed while ${record.phase}); the next deploy, rollback or abort undoes it`,
    failedIn: record.phase,
  };
}

/** What this runner's lock says of the environment's running deployment. */
export function livenessOf(stateDir: string, environment: string, artifact: string, now: number): Liveness {
  const lock = readLock(lockPath(stateDir, environment, artifact));
  if (lock.state !== 'held') return { running: undefined, canTell: lock.state === 'free', now };
  const { holder } = lock;
  if (holder.host !== hostname()) return { running: undefined, canTell: false, now };
  return { running: isStale(holder) ? undefined : holder.deployment, canTell: true, now };
}

function entryOf(record: DeploymentRecord, liveness: Liveness | undefined): HistoryEntry {
  const done = ended.has(record.phase);
  const now = standing(record, liveness);
  return {
    deployment: record.deployment,
    kind: record.kind,
    version: record.version ?? null,
    by: record.by ?? null,
    strategy: record.strategyName ?? record.strategy?.name ?? null,
    startedAt: new Date(record.startedAt).toISOString(),
    endedAt: done ? new Date(record.at).toISOString() : null,
    durationMs: done ? record.at - record.startedAt : null,
    ...now,
    source: 'journal',
  };
}

/** How a deploy only the target remembers ended, from its fleet's role while the fleet exists. */
export function targetResultOf(record: TargetRecord, fleets: FleetInfo[]): string {
  const fleet = fleets.find((f) => f.deployment === record.deployment);
  return fleet === undefined
    ? 'unknown'
    : fleet.role === 'failed'
      ? 'failed'
      : fleet.role === 'green'
        ? 'in progress'
        : 'succeeded';
}

/**
 * A deploy only the target remembers: how it ended is known while its fleet exists (its role), and
 * not once it is gone, which `result: 'unknown'` says rather than guess.
 */
function entryFromTarget(record: TargetRecord, fleets: FleetInfo[]): HistoryEntry {
  const result = targetResultOf(record, fleets);
  return {
    deployment: record.deployment,
    kind: 'deploy',
    version: record.version,
    by: record.by,
    strategy: null,
    startedAt: new Date(record.startedAt).toISOString(),
    endedAt: null,
    durationMs: null,
    result,
    reason: null,
    failedIn: null,
    source: 'target',
  };
}

/**
 * This runner's deployments and rollbacks from its journal, and the deploys the target alone remembers
 * (aws: from another runner), newest first, at most `limit`. The journal's account wins: it has more.
 */
export function historyOf(
  journal: Journal,
  limit: number,
  fromTarget: { records: TargetRecord[]; fleets: FleetInfo[] } = { records: [], fleets: [] },
  liveness?: Liveness,
): HistoryEntry[] {
  const known = journal.deployments();
  const ids = new Set(known.map((d) => d.deployment));
  const entries = [
    ...known.map((record) => entryOf(record, liveness)),
    ...fromTarget.records
      .filter((r) => !ids.has(r.deployment))
      .map((r) => entryFromTarget(r, fromTarget.fleets)),
  ];
  return entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
}
