import type { Clock } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import type { RequestCounts, TrafficMetrics } from '../src/providers/types.js';
import type { Judgement, ShiftCheck } from './shift-types.js';

/** Thresholds in percent (`1` is 1%); `maxOverBlue` in percentage points. */
export interface ErrorRateOptions {
  max: number;
  minRequests: number;
  maxOverBlue?: number | undefined;
}

/**
 * Judges green's 5xx share of its requests in one window, and against blue's in the same window when
 * `maxOverBlue` is set and blue served enough requests to say something. Too few requests, or none
 * counted, is inconclusive: never a pass.
 */
export function assessErrorRate(
  green: RequestCounts | undefined,
  blue: RequestCounts | undefined,
  options: ErrorRateOptions,
): Judgement {
  if (green === undefined) return { outcome: 'inconclusive', detail: 'no request counts for green yet' };
  if (green.requests < options.minRequests) {
    return {
      outcome: 'inconclusive',
      detail: `${green.requests} requests < ${options.minRequests}`,
      value: green.requests,
      threshold: options.minRequests,
      counted: countedOf(green),
    };
  }
  const greenRate = rateOf(green);
  const greenWords = `green 5xx rate ${percentAgainst(greenRate, options.max)}% over ${green.requests} requests`;
  if (exceeds(greenRate, options.max)) {
    return {
      outcome: 'fail',
      detail: `${greenWords} > ${formatPercent(options.max)}%`,
      value: greenRate,
      counted: countedOf(green),
      threshold: options.max,
    };
  }
  const within = `${greenWords} ≤ ${formatPercent(options.max)}%`;
  if (options.maxOverBlue === undefined) {
    return {
      outcome: 'pass',
      detail: within,
      value: greenRate,
      counted: countedOf(green),
      threshold: options.max,
    };
  }
  if (blue === undefined || blue.requests < options.minRequests) {
    const why = blue === undefined ? 'no counts' : `${blue.requests} requests < ${options.minRequests}`;
    return {
      outcome: 'pass',
      detail: `${within}; not compared with blue (${why})`,
      value: greenRate,
      counted: countedOf(green),
      threshold: options.max,
    };
  }
  const blueRate = rateOf(blue);
  const limit = blueRate + options.maxOverBlue;
  const blueWords = `blue's ${formatPercent(blueRate)}% over ${blue.requests} requests`;
  const over = greenRate - blueRate;
  if (exceeds(greenRate, limit)) {
    return {
      outcome: 'fail',
      detail: `${greenWords} is ${formatPercent(over)} points above ${blueWords} > ${formatPercent(options.maxOverBlue)} allowed`,
      value: greenRate,
      counted: countedOf(green),
      threshold: limit,
    };
  }
  return {
    outcome: 'pass',
    detail: `${within}, ${blueWords}`,
    value: greenRate,
    counted: countedOf(green),
    threshold: Math.min(options.max, limit),
  };
}

export interface ErrorRateCheckOptions extends ErrorRateOptions {
  metrics: TrafficMetrics;
  green: string;
  blue?: string | undefined;
  /** How far back each reading counts, in ms. */
  window: number;
  interval: number;
  clock?: Clock;
}

/** Reads both fleets' counts over the last window, never before green's first traffic. */
export function errorRateCheck(options: ErrorRateCheckOptions): ShiftCheck {
  const clock = options.clock ?? systemClock;
  const fleets = options.blue === undefined ? [options.green] : [options.green, options.blue];
  return {
    name: 'errorRate',
    interval: options.interval,
    window: options.window,
    async read(phase) {
      const now = clock.now();
      const from = Math.max(now - options.window, phase.greenSince);
      const counts = await options.metrics.requestCounts(fleets, from, now);
      const blue = options.blue === undefined ? undefined : counts[options.blue];
      return {
        check: 'errorRate',
        ...assessErrorRate(counts[options.green], blue, options),
        at: clock.now(),
      };
    },
  };
}

function rateOf(counts: RequestCounts): number {
  return counts.requests === 0 ? 0 : (counts.errors / counts.requests) * 100;
}

/** Above the limit by more than floating point's noise: 7 errors in 700 requests is 1%, not above it. */
function countedOf(counts: RequestCounts): { requests: number; failed: number } {
  return { requests: counts.requests, failed: counts.errors };
}

function exceeds(value: number, limit: number): boolean {
  return value - limit > 1e-9 * Math.max(1, Math.abs(limit));
}

/** Two significant digits, one decimal from 10% up: 7.9, 0.46, 12.3, 1. */
export function formatPercent(percent: number, digits = 2): string {
  const rounded = percent >= 10 ? percent.toFixed(Math.max(1, digits - 1)) : percent.toPrecision(digits);
  return String(Number(rounded));
}

/** A rate printed so that it never reads as its limit when it is not: 1.004 against 1 is "1.004", not "1". */
function percentAgainst(percent: number, limit: number): string {
  let digits = 2;
  while (digits < 6 && formatPercent(percent, digits) === formatPercent(limit) && percent !== limit) digits++;
  return formatPercent(percent, digits);
}
