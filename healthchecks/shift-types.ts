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
  at: number;
}

export interface ShiftCheck {
  /** The config key, as in CheckReading.check. */
  name: string;
  /** How often it reads, in ms. */
  interval: number;
  /** Reads once; a reading that cannot be taken is a `fail` (or `inconclusive` where the check says so). */
  read(phase: ShiftPhase, signal: AbortSignal): Promise<CheckReading>;
}
