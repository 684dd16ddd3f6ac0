import { targetResultOf } from '../controller/history.js';
import type { FleetInfo, TargetRecord } from '../providers/types.js';
import type { Timeline } from './timeline.js';

/**
 * A deploy this runner has no journal of, as the target still holds it (aws: the launch template
 * version's description, and the group while it exists): who launched which version when, how it
 * ended where its fleet says so, and the share it takes now. Weights over time and check readings were
 * only ever journaled by the runner that ran it.
 */
export function timelineFromTarget(
  record: TargetRecord,
  fleets: FleetInfo[],
  weights: Record<string, number>,
  now: number,
): Timeline {
  const fleet = fleets.find((f) => f.deployment === record.deployment);
  const share = fleet ? (weights[fleet.id] ?? 0) : undefined;
  return {
    source: 'target',
    deployment: record.deployment,
    kind: 'deploy',
    version: record.version,
    by: record.by,
    strategy: null,
    startedAt: record.startedAt,
    endedAt: Math.max(now, record.startedAt),
    result: targetResultOf(record, fleets),
    reason: null,
    failedIn: null,
    phases: [{ phase: 'launching', at: record.startedAt }],
    weights: [],
    now: fleet ? { role: fleet.role, share: share ?? 0 } : null,
    moments: [],
    checks: [],
  };
}
