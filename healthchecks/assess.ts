import type { Measurement, Thresholds, Verdict } from './types.js';

/**
 * Decides from one instance's measurements, newest last, as a load balancer does: healthy after
 * `healthyThreshold` passes in a row, unhealthy after `unhealthyThreshold` failures or errors in a row.
 */
export function assess(all: readonly Measurement[], thresholds: Thresholds): Verdict {
  const warming = thresholds.warmingUp && !all.some((m) => m.outcome === 'pass');
  const history = warming ? all.filter((m) => !m.notReady) : all;
  let passes = 0;
  let failures = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const passed = history[i]?.outcome === 'pass';
    if (passed && failures === 0) passes++;
    else if (!passed && passes === 0) failures++;
    else break;
  }
  if (passes >= thresholds.healthyThreshold) return 'healthy';
  if (failures >= thresholds.unhealthyThreshold) return 'unhealthy';
  return 'pending';
}
