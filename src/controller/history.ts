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
  };
}

/** This runner's deployments and rollbacks from its journal, newest first, at most `limit`. */
export function historyOf(journal: Journal, limit: number): HistoryEntry[] {
  return journal
    .deployments()
    .sort((a, b) => b.startedAt - a.startedAt)
    .slice(0, limit)
    .map(entryOf);
}
