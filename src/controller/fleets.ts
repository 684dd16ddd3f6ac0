import type { FleetInfo, Weights } from '../providers/types.js';

export interface ServiceView {
  /** The fleet that takes most of the traffic now (blue, for the next deploy). */
  live: FleetInfo | undefined;
  /** The newest fleet that takes no traffic: the rollback target. */
  standby: FleetInfo | undefined;
  /** Every fleet other than the live one. */
  idle: FleetInfo[];
}

/** Which fleet is live is read from the router's weights, never remembered. */
export function viewOf(fleets: readonly FleetInfo[], weights: Weights): ServiceView {
  const byWeight = [...fleets].sort((a, b) => (weights[b.id] ?? 0) - (weights[a.id] ?? 0));
  const top = byWeight[0];
  const live = top && (weights[top.id] ?? 0) > 0 ? top : undefined;
  const idle = fleets.filter((f) => f !== live);
  const standby = idle.filter((f) => !(weights[f.id] ?? 0)).sort((a, b) => b.createdAt - a.createdAt)[0];
  return { live, standby, idle };
}

export function sameWeights(a: Weights, b: Weights): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

export function describeWeights(weights: Weights, fleets: readonly FleetInfo[]): string {
  const parts = Object.entries(weights)
    .filter(([, w]) => w > 0)
    .map(([id, w]) => `${fleets.find((f) => f.id === id)?.version ?? id} ${w}%`);
  return parts.length ? parts.join(', ') : 'no fleet';
}
