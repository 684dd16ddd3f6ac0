import type { Clock } from '../src/clock.js';

/**
 * The checks that watch green while it takes traffic (error rate, alarms, a webhook, a user-facing
 * probe), beside the per-instance HTTP health checks. Each reads a measurement and judges it; none throws.
 */

/** Where a deploy is when a check reads: which step, and how much traffic green takes. */
export interface ShiftPhase {
  /** The strategy step index (as the journal records it). */
  step: number;
  /** Green's share of traffic, 0–100. */
  weight: number;
  /** `step` while the strategy's steps run, `bake` once green takes all traffic and bakes. */
  phase: 'step' | 'bake';
  /** When green took this weight (epoch ms). */
  since: number;
  /** When green first took traffic in this deploy (epoch ms); no window reaches earlier. */
  greenSince: number;
}

/** One judged measurement: what was measured against what threshold, in words a person reads. */
export interface CheckReading {
  /** The check's config key: `errorRate`, `alarms`, `webhook`, `probe`. */
  check: string;
  outcome: 'pass' | 'fail' | 'inconclusive';
  /** For example "green 5xx rate 7.9% over 412 requests > 1%". */
  detail: string;
  /** The measured value and its limit, where there is one number to draw (the report). */
  value?: number;
  threshold?: number;
  /** The requests behind the value, where it counts them (the probe, the error rate): the report's successes and failures. */
  counted?: { requests: number; failed: number };
  at: number;
}

/** What a pure judge decides from one measurement; the check adds its name and the time. */
export type Judgement = Pick<CheckReading, 'outcome' | 'detail' | 'value' | 'threshold' | 'counted'>;

/** What a check that works between its reads (the probe's steady requests) is given for the whole watch. */
export interface ShiftCheckContext {
  clock: Clock;
  /** Aborts when the watch stops; the work ends then. */
  signal: AbortSignal;
  /** Where the deploy is now (it changes at every step). */
  phase(): ShiftPhase;
}

export interface ShiftCheck {
  /** The config key, as in CheckReading.check. */
  name: string;
  /** How often it reads, in ms. */
  interval: number;
  /**
   * The span of traffic each reading judges, in ms, where it looks back over one (errorRate's window):
   * an inconclusive run is then measured in these, from green's first traffic at the earliest. Absent,
   * each reading is one window (of `interval`).
   */
  window?: number;
  /** Work for the whole watch beside the reads (the probe's requests); resolves once `signal` aborts. */
  run?(context: ShiftCheckContext): Promise<void>;
  /** Reads once; a reading that cannot be taken is a `fail` (or `inconclusive` where the check says so). */
  read(phase: ShiftPhase, signal: AbortSignal): Promise<CheckReading>;
}
