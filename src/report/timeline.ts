import type { JournalEntry } from '../state/journal.js';

/** One deployment's story, as its journal tells it: what the report draws. */
export interface Timeline {
  /** `journal`: this runner ran it and recorded all of it; `target`: only what the target (aws) still holds. */
  source: 'journal' | 'target';
  deployment: string;
  kind: 'deploy' | 'rollback';
  version: string | null;
  by: string | null;
  strategy: string | null;
  startedAt: number;
  endedAt: number;
  result: string;
  reason: string | null;
  failedIn: string | null;
  /** Each phase the deployment entered, in order (launching, checking, shifting, baking, …). */
  phases: { phase: string; at: number }[];
  /** Each fleet's share of traffic at every change, by a label people read (`green v2`, `blue`). */
  weights: { at: number; shares: Record<string, number> }[];
  /** What people did to it while it ran (promote, pause, resume, abort) and gates that timed out. */
  moments: { at: number; kind: string; by: string | null }[];
  /** Where only the target remembers it: its fleet's role and share of traffic now, or null when gone. */
  now?: { role: string; share: number } | null;
  /** Each check's readings over time. */
  checks: {
    at: number;
    check: string;
    outcome: string;
    detail: string;
    value?: number;
    threshold?: number;
    counted?: { requests: number; failed: number };
  }[];
}

/** Folds a deployment's journal records into its timeline; undefined when the journal has none. */
export function timelineOf(entries: JournalEntry[]): Timeline | undefined {
  const first = entries[0];
  const last = entries.at(-1);
  if (!first || !last) return undefined;
  const folded = Object.assign({}, ...entries) as JournalEntry;
  const blueVersion = blueVersionOf(entries);
  const label = (fleet: string) =>
    fleet === folded.green
      ? `green ${folded.version ?? ''}`.trim()
      : fleet === folded.blue
        ? `blue${blueVersion ? ` ${blueVersion}` : ''}`
        : fleet;
  const phases: Timeline['phases'] = [];
  const weights: Timeline['weights'] = [];
  const checks: Timeline['checks'] = [];
  const moments: Timeline['moments'] = [];
  const seenReadings = new Set<string>();
  for (const entry of entries) {
    if (phases.at(-1)?.phase !== entry.phase) phases.push({ phase: entry.phase, at: entry.at });
    if (entry.moment) moments.push({ at: entry.at, kind: entry.moment.kind, by: entry.moment.by ?? null });
    if (entry.weights) {
      const shares = Object.fromEntries(Object.entries(entry.weights).map(([fleet, w]) => [label(fleet), w]));
      weights.push({ at: entry.at, shares });
    }
    for (const [check, reading] of Object.entries(entry.checks ?? {})) {
      const key = `${check}@${reading.at}`;
      if (seenReadings.has(key)) continue;
      seenReadings.add(key);
      checks.push({
        at: reading.at,
        check,
        outcome: reading.outcome,
        detail: reading.detail,
        ...(reading.value !== undefined ? { value: reading.value } : {}),
        ...(reading.threshold !== undefined ? { threshold: reading.threshold } : {}),
        ...(reading.counted ? { counted: reading.counted } : {}),
      });
    }
  }
  // Before its first change blue held all traffic: drawn from the start rather than left blank.
  if (folded.blue && entries[0]?.kind === 'deploy' && (weights[0]?.at ?? Infinity) > first.at)
    weights.unshift({ at: first.at, shares: { [label(folded.blue)]: 100 } });
  return {
    source: 'journal',
    deployment: first.deployment,
    kind: first.kind,
    version: folded.version ?? null,
    by: folded.by ?? null,
    strategy: folded.strategyName ?? null,
    startedAt: first.at,
    endedAt: last.at,
    result: last.phase,
    reason: last.phase === 'failed' ? (folded.reason ?? null) : null,
    failedIn: folded.failedIn ?? null,
    phases,
    weights,
    moments,
    checks: checks.sort((a, b) => a.at - b.at),
  };
}

/** The version blue ran, where the journal names it (a rollback's `version` is the one it went back to). */
function blueVersionOf(entries: JournalEntry[]): string | undefined {
  return entries.find((e) => e.blueVersion !== undefined)?.blueVersion;
}
