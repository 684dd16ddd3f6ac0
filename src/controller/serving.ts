import type { FleetInfo, Weights } from '../providers/types.js';
import { viewOf } from './fleets.js';

/**
 * Why nothing serves an environment, or undefined when something does: a fleet takes traffic and at
 * least one of its instances runs. `targetDown` is the target's own reason when it knows its router is
 * down (the local agent not running), which no fleet list can show.
 */
export function whyNotServing(
  fleets: readonly FleetInfo[],
  weights: Weights,
  targetDown?: string,
): string | undefined {
  if (targetDown) return targetDown;
  const { live } = viewOf(fleets, weights);
  if (!live) {
    return fleets.length === 0
      ? 'nothing is deployed here'
      : `no fleet takes traffic (fleets: ${fleets.map((f) => f.version).join(', ')})`;
  }
  // An instance whose target does not say otherwise is counted as running.
  if (!live.instances.some((i) => i.up !== false)) {
    return `the live fleet \`${live.version}\` has no running instance (${live.instances.length} instances)`;
  }
  return undefined;
}
