import type { Clock } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import type { Judgement, ShiftCheck, ShiftPhase } from './shift-types.js';

/** The probe's own requests in one step of the shift. */
export interface ProbeTally {
  step: number;
  phase: ShiftPhase['phase'];
  /** Requests that finished (answered, failed or timed out) in the step. */
  requests: number;
  failed: number;
  /** What the last failed one came to: a status (`503`) or an error code (`ETIMEDOUT`). */
  lastFailure?: string;
}

export interface ProbeOptions {
  /** Named in the reading (`requests to /`); the address itself is not. */
  path: string;
  maxFailures: number;
}

/** Fails when the step's failed requests exceed `maxFailures`; a step with none finished yet says nothing. */
export function assessProbe(tally: ProbeTally, options: ProbeOptions): Judgement {
  const where = tally.phase === 'bake' ? 'in the bake' : `in step ${tally.step}`;
  if (tally.requests === 0) {
    return { outcome: 'inconclusive', detail: `probe: no request to ${options.path} finished yet ${where}` };
  }
  const counted = `probe: ${tally.failed} of ${tally.requests} requests to ${options.path} failed ${where}`;
  const failed = tally.failed > options.maxFailures;
  const last = tally.lastFailure ? ` (last: ${tally.lastFailure})` : '';
  return {
    outcome: failed ? 'fail' : 'pass',
    detail: failed
      ? `${counted} > ${options.maxFailures} allowed${last}`
      : `${counted}, ≤ ${options.maxFailures} allowed${last}`,
    value: tally.failed,
    threshold: options.maxFailures,
    counted: { requests: tally.requests, failed: tally.failed },
  };
}

export interface ProbeCheckOptions extends ProbeOptions {
  /** The public address with the path: what users reach. */
  url: string;
  /** Between two requests, start to start. */
  every: number;
  timeout: number;
  /** How often the tally is read. */
  interval: number;
  clock?: Clock;
}

/**
 * Steady GETs to the public address for the whole watch, one at a time, one per `every`, each counted
 * in the step it was sent in. A request fails when it gets no answer within `timeout` or answers 4xx or
 * 5xx (redirects are not followed: a 3xx is an answer). Each read judges the current step, and first
 * any step that ended since the last read, so that the failures of a step shorter than the read
 * interval are still judged (a step already read as failing is not told again).
 */
export function probeCheck(options: ProbeCheckOptions): ShiftCheck {
  const clock = options.clock ?? systemClock;
  const tallies = new Map<number, ProbeTally>();
  const reportedFailing = new Set<number>();
  const count = (phase: ShiftPhase, failure: string | undefined) => {
    const tally = tallies.get(phase.step) ?? { step: phase.step, phase: phase.phase, requests: 0, failed: 0 };
    tallies.set(phase.step, tally);
    tally.phase = phase.phase;
    tally.requests++;
    if (failure !== undefined) {
      tally.failed++;
      tally.lastFailure = failure;
    }
  };
  return {
    name: 'probe',
    interval: options.interval,
    async run(context) {
      while (!context.signal.aborted) {
        const started = context.clock.now();
        const phase = context.phase();
        const failure = await get(options.url, options.timeout, context.signal);
        if (context.signal.aborted) return;
        count(phase, failure);
        try {
          await context.clock.sleep(
            Math.max(0, started + options.every - context.clock.now()),
            context.signal,
          );
        } catch {
          return; // Stopped.
        }
      }
    },
    async read(phase) {
      const ended = [...tallies.values()].filter((t) => t.step < phase.step);
      for (const tally of ended) tallies.delete(tally.step);
      // A step that ended failing is told once, unless a read in it already said so.
      const failedEarlier = ended
        .filter((t) => !reportedFailing.has(t.step))
        .map((t) => assessProbe(t, options))
        .find((j) => j.outcome === 'fail');
      const current = tallies.get(phase.step) ?? {
        step: phase.step,
        phase: phase.phase,
        requests: 0,
        failed: 0,
      };
      const judged = failedEarlier ?? assessProbe(current, options);
      if (!failedEarlier && judged.outcome === 'fail') reportedFailing.add(phase.step);
      return { check: 'probe', ...judged, at: clock.now() };
    },
  };
}

/** One GET; undefined when it passed, else what it came to. */
async function get(url: string, timeout: number, signal: AbortSignal): Promise<string | undefined> {
  try {
    // Loaded by the first request, not by every command that reads the config.
    const { default: got } = await import('got');
    const response = await got(url, {
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      timeout: { request: timeout },
      signal,
    });
    return response.statusCode < 400 ? undefined : String(response.statusCode);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? code : 'an error without a code';
  }
}
