import type { FleetInfo, Weights } from '../providers/types.js';

export interface ServiceView {
  /** The fleet that takes most of the traffic now (blue, for the next deploy). */
  live: FleetInfo | undefined;
  /** The newest fleet recorded as standby that takes no traffic: the only rollback target. */
  standby: FleetInfo | undefined;
  /** Every fleet other than the live one. */
  idle: FleetInfo[];
}

/**
 * Which fleet serves is read from the router's weights, never remembered; what a fleet is for (its role)
 * is what the target recorded. At equal weights the fleet recorded as live wins, not the list's order.
 */
export function viewOf(fleets: readonly FleetInfo[], weights: Weights): ServiceView {
  const share = (f: FleetInfo) => weights[f.id] ?? 0;
  // Mid-canary green may take more than blue (linear at 60%): the live fleet is still the one recorded
  // live while it takes traffic, whatever the split; the largest share decides only when none is.
  const servingLive = (f: FleetInfo) => f.role === 'live' && share(f) > 0;
  const byWeight = [...fleets].sort(
    (a, b) => Number(servingLive(b)) - Number(servingLive(a)) || share(b) - share(a),
  );
  const top = byWeight[0];
  const live = top && share(top) > 0 ? top : undefined;
  const idle = fleets.filter((f) => f !== live);
  const standby = idle
    .filter((f) => f.role === 'standby' && share(f) === 0)
    .sort((a, b) => b.createdAt - a.createdAt)[0];
  return { live, standby, idle };
}

export function sameWeights(a: Weights, b: Weights): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** Weights by version rather than fleet id, for people; a fleet the list lacks keeps its id. */
export function weightsByVersion(weights: Weights, fleets: readonly FleetInfo[]): Record<string, number> {
  return Object.fromEntries(
    Object.entries(weights).map(([id, w]) => [fleets.find((f) => f.id === id)?.version ?? id, w]),
  );
}

export function describeWeights(weights: Weights, fleets: readonly FleetInfo[]): string {
  const parts = Object.entries(weights)
    .filter(([, w]) => w > 0)
    .map(([id, w]) => `${fleets.find((f) => f.id === id)?.version ?? id} ${w}%`);
  return parts.length ? parts.join(', ') : 'no fleet';
}
