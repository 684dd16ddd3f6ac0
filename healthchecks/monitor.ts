import type { Clock } from '../src/clock.js';
import { assess } from './assess.js';
import type { CheckTarget, Measurement, Probe, Thresholds, Verdict } from './types.js';

export interface MonitorOptions extends Thresholds {
  interval: number;
  probe: Probe;
  clock: Clock;
  signal?: AbortSignal;
  /** Measurements the target takes itself (an ALB's target health), merged into every round. */
  native?: () => Promise<Measurement[]>;
  /** Called after every round with each instance's verdict. */
  onRound?: (verdicts: Map<string, Verdict>) => void;
  /**
   * Measurements from earlier watches of the same fleet: a watch shorter than the checks need to decide
   * (a 200 ms canary step) must not forget the failures seen in the step before it.
   */
  history?: Map<string, Measurement[]>;
}

/** Enough to decide any threshold (at most 10 in a row); older measurements say nothing more. */
const kept = 20;

/** One round: every target probed, and the target's own view of health, all at once. */
export async function measureRound(
  targets: readonly CheckTarget[],
  probe: Probe,
  native?: () => Promise<Measurement[]>,
): Promise<Measurement[]> {
  const [probed, own] = await Promise.all([Promise.all(targets.map((t) => probe(t))), native?.() ?? []]);
  return [...probed, ...own];
}

export type MonitorResult =
  | { kind: 'healthy' }
  | { kind: 'unhealthy'; instance: string; measurement: Measurement }
  | { kind: 'timed-out'; pending: Measurement[] }
  | { kind: 'watched' };

/**
 * Probes every target once an interval. In `until-healthy` mode it stops when all are healthy; in `watch`
 * mode it runs to `until` and only stops early for an unhealthy instance. Either way an unhealthy
 * instance ends it at once.
 */
export async function monitor(
  targets: readonly CheckTarget[],
  mode: 'until-healthy' | 'watch',
  until: number,
  options: MonitorOptions,
): Promise<MonitorResult> {
  const history = options.history ?? new Map<string, Measurement[]>();
  for (;;) {
    const started = options.clock.now();
    const round = await measureRound(targets, options.probe, options.native);
    const verdicts = new Map<string, Verdict>();
    for (const measurement of round) {
      const list = history.get(measurement.instance) ?? [];
      history.set(measurement.instance, list);
      list.push(measurement);
      if (list.length > kept) list.splice(0, list.length - kept);
      // Only a fleet that has not yet passed may still be warming up; one being watched has passed.
      verdicts.set(measurement.instance, assess(list, { ...options, warmingUp: mode === 'until-healthy' }));
    }
    options.onRound?.(verdicts);
    const unhealthy = round.find((m) => verdicts.get(m.instance) === 'unhealthy');
    if (unhealthy) return { kind: 'unhealthy', instance: unhealthy.instance, measurement: unhealthy };
    if (mode === 'until-healthy' && [...verdicts.values()].every((v) => v === 'healthy'))
      return { kind: 'healthy' };
    const next = started + options.interval;
    if (next >= until) {
      if (mode === 'watch') {
        if (until > options.clock.now())
          await options.clock.sleep(until - options.clock.now(), options.signal);
        return { kind: 'watched' };
      }
      const pending = round.filter((m) => verdicts.get(m.instance) !== 'healthy');
      return { kind: 'timed-out', pending };
    }
    await options.clock.sleep(Math.max(0, next - options.clock.now()), options.signal);
  }
}
