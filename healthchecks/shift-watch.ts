import type { Clock } from '../src/clock.js';
import { formatDurationSetting } from '../src/duration.js';
import { describeCause } from '../src/errors.js';
import type { CheckReading, ShiftCheck, ShiftPhase } from './shift-types.js';

export interface ShiftWatchOptions {
  clock: Clock;
  /** The deploy's own signal: when it aborts, the watch stops as with `stop()`. */
  signal?: AbortSignal;
  /** A check inconclusive this many windows in a row fails. */
  inconclusiveLimit: number;
  /**
   * Every reading, as it is taken (the failing one too). It must not throw; an error it throws is
   * dropped so that the checks keep running.
   */
  onReading?: (reading: CheckReading) => void;
  /** Where the deploy is when the watch starts: green's first share of traffic. */
  phase: ShiftPhase;
}

export interface ShiftWatch {
  /** Where the deploy is now; call it at every step and when the bake starts. */
  setPhase(phase: ShiftPhase): void;
  /** The first failing reading; never rejects, and never resolves while nothing fails. */
  readonly failed: Promise<CheckReading>;
  /** The last reading of each check that has read, in the order the checks were given. */
  latest(): CheckReading[];
  /**
   * The checks that have not passed their way to a verdict yet: latest reading inconclusive, or no
   * reading yet. The controller extends a step while there is any: inconclusive is never a pass.
   */
  inconclusive(): string[];
  /** Stops every timer, read and request of the watch (their signal aborts); resolves once all ended. */
  stop(): Promise<void>;
}

/**
 * Runs the shift checks of one deploy, from green's first share of traffic to the end of its bake: each
 * reads at once and then every `interval` on the injected clock. A read that throws is a failed reading
 * (a check that cannot run counts as failed), never an exception out of the watch.
 */
export function startShiftWatch(checks: readonly ShiftCheck[], options: ShiftWatchOptions): ShiftWatch {
  const { clock, inconclusiveLimit } = options;
  const stopping = new AbortController();
  const signal = stopping.signal;
  let phase = options.phase;
  const latest = new Map<string, CheckReading>();
  let resolveFailed: (reading: CheckReading) => void = () => undefined;
  const failed = new Promise<CheckReading>((resolve) => (resolveFailed = resolve));
  let failedYet = false;

  const record = (check: ShiftCheck, reading: CheckReading) => {
    if (signal.aborted) return;
    latest.set(check.name, reading);
    try {
      options.onReading?.(reading);
    } catch {
      // The listener's own failure; the checks must go on watching green.
    }
    if (reading.outcome === 'fail' && !failedYet) {
      failedYet = true;
      resolveFailed(reading);
    }
  };

  const watchOne = async (check: ShiftCheck) => {
    /** When the current run of inconclusive readings began, and how many readings it holds. */
    let run: { since: number; readings: number } | undefined;
    while (!signal.aborted) {
      const started = clock.now();
      const at = phase;
      let reading: CheckReading;
      try {
        reading = await untilAborted(
          Promise.resolve().then(() => check.read(at, signal)),
          signal,
        );
      } catch (error) {
        if (signal.aborted) return;
        reading = {
          check: check.name,
          outcome: 'fail',
          detail: `${check.name} could not be read: ${firstLine(describeCause(error))}`,
          at: clock.now(),
        };
      }
      if (signal.aborted) return;
      if (reading.outcome === 'inconclusive') {
        run ??= { since: started, readings: 0 };
        run.readings++;
        const window = check.window ?? check.interval;
        // A run of readings that each look back a window covers from one window before its first,
        // though never from before green took traffic; readings without a window count one each.
        const windows =
          check.window === undefined
            ? run.readings
            : (started - Math.max(run.since - window, at.greenSince)) / window;
        if (windows >= inconclusiveLimit) {
          reading = {
            ...reading,
            outcome: 'fail',
            detail: `${check.name} inconclusive for ${inconclusiveLimit} windows of ${formatDurationSetting(window)}: ${reading.detail}`,
          };
        }
      } else {
        run = undefined;
      }
      record(check, reading);
      try {
        await clock.sleep(Math.max(0, started + check.interval - clock.now()), signal);
      } catch {
        return; // Stopped.
      }
    }
  };

  const runOne = async (check: ShiftCheck) => {
    if (!check.run) return;
    try {
      await untilAborted(
        Promise.resolve().then(() => check.run?.({ clock, signal, phase: () => phase })),
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      record(check, {
        check: check.name,
        outcome: 'fail',
        detail: `${check.name} stopped working: ${firstLine(describeCause(error))}`,
        at: clock.now(),
      });
    }
  };

  const onOuterAbort = () => stopping.abort(options.signal?.reason);
  if (options.signal?.aborted) stopping.abort(options.signal.reason);
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const running = checks.flatMap((check) => [watchOne(check), runOne(check)]);

  return {
    setPhase(next) {
      phase = next;
    },
    failed,
    latest() {
      return checks.flatMap((check) => latest.get(check.name) ?? []);
    },
    inconclusive() {
      return checks
        .filter((check) => (latest.get(check.name)?.outcome ?? 'inconclusive') === 'inconclusive')
        .map((check) => check.name);
    },
    async stop() {
      options.signal?.removeEventListener('abort', onOuterAbort);
      stopping.abort(new Error('the shift watch stopped'));
      await Promise.all(running);
    },
  };
}

/** Settles with `promise`, or rejects as soon as `signal` aborts: a read that ignores its signal cannot hold up stop(). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      promise.catch(() => undefined);
      return reject(signal.reason as Error);
    }
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
