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

function entryOf(record: DeploymentRecord): HistoryEntry {
  const done = ended.has(record.phase);
  return {
    deployment: record.deployment,
    kind: record.kind,
    version: record.version ?? null,
    by: record.by ?? null,
    strategy: record.strategyName ?? record.strategy?.name ?? null,
    startedAt: new Date(record.startedAt).toISOString(),
    endedAt: done ? new Date(record.at).toISOString() : null,
    durationMs: done ? record.at - record.startedAt : null,
    result: record.phase,
    reason: record.phase === 'failed' ? (record.reason ?? null) : null,
    failedIn: record.failedIn ?? null,
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
): HistoryEntry[] {
  const known = journal.deployments();
  const ids = new Set(known.map((d) => d.deployment));
  const entries = [
    ...known.map(entryOf),
    ...fromTarget.records
      .filter((r) => !ids.has(r.deployment))
      .map((r) => entryFromTarget(r, fromTarget.fleets)),
  ];
  return entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
}
