import type { FleetInfo, Weights } from '../providers/types.js';

export interface TrafficChange {
  /** The weights about to be set. */
  next: Weights;
  /** The weights the router holds now. */
  current: Weights;
  /** Every fleet as the target reports it now. */
  fleets: readonly FleetInfo[];
  /** A fleet traffic is being taken off because it failed: it no longer counts as serving. */
  leaving?: string | undefined;
}

/** Why a fleet may not take traffic, or undefined when it may. */
function unfit(fleet: FleetInfo | undefined, id: string): string | undefined {
  if (!fleet) return `fleet \`${id}\` does not exist`;
  if (fleet.role === 'failed') return `fleet \`${id}\` (${fleet.version}) failed its deploy`;
  if (fleet.role === 'retiring') return `fleet \`${id}\` (${fleet.version}) is being retired`;
  const up = fleet.instances.filter((i) => i.up !== false);
  if (up.length === 0) return `fleet \`${id}\` (${fleet.version}) has no running instance`;
  return undefined;
}

/**
 * The one check every traffic change passes first (safety rule 1): the weights name only fleets that
 * exist, are fit to serve and have instances up, add up to 100, and never leave the service with nothing
 * while a fleet fit to serve is serving. Returns why the change is unsafe, or undefined. Pure.
 */
export function unsafeTrafficChange(change: TrafficChange): string | undefined {
  const byId = new Map(change.fleets.map((f) => [f.id, f]));
  const shares = Object.entries(change.next).filter(([, w]) => w !== 0);
  for (const [id, weight] of shares) {
    if (!Number.isFinite(weight) || weight < 0 || weight > 100)
      return `weight ${weight} for fleet \`${id}\` is outside 0–100`;
    const reason = unfit(byId.get(id), id);
    if (reason) return reason;
  }
  const total = shares.reduce((sum, [, w]) => sum + w, 0);
  if (shares.length > 0 && total !== 100) return `weights add up to ${total}, not 100`;
  if (shares.length === 0) {
    const serving = Object.entries(change.current).find(
      ([id, w]) => w > 0 && id !== change.leaving && unfit(byId.get(id), id) === undefined,
    );
    if (serving)
      return `it would take all traffic off \`${serving[0]}\` (${byId.get(serving[0])?.version}), which serves, and leave nothing`;
  }
  return undefined;
}
