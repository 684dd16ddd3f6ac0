import { afterEach, describe, expect, it } from 'vitest';
import { alarmsCheck } from '../../healthchecks/alarms.js';
import { errorRateCheck } from '../../healthchecks/error-rate.js';
import { shiftChecksFrom, type ShiftCheckSources } from '../../healthchecks/shift-checks.js';
import type { CheckReading, ShiftCheck, ShiftPhase } from '../../healthchecks/shift-types.js';
import { startShiftWatch, type ShiftWatch } from '../../healthchecks/shift-watch.js';
import type { ChecksConfig } from '../../src/config/checks.js';
import { UserInputError } from '../../src/errors.js';
import type { RequestCounts, TrafficMetrics } from '../../src/providers/types.js';
import { ManualClock } from '../helpers/manual-clock.js';

const start = Date.UTC(2026, 10, 26, 12, 0, 0);
const phase1: ShiftPhase = { step: 0, weight: 10, phase: 'step', since: start, greenSince: start };
const phase2: ShiftPhase = { step: 1, weight: 50, phase: 'step', since: start + 60_000, greenSince: start };

type Outcome = CheckReading['outcome'];

/** A check that answers from a script (the last outcome repeats) and records what it was asked. */
function scripted(name: string, interval: number, outcomes: Outcome[], window?: number) {
  const asked: { phase: ShiftPhase; signal: AbortSignal }[] = [];
  const check: ShiftCheck = {
    name,
    interval,
    ...(window === undefined ? {} : { window }),
    async read(phase, signal) {
      asked.push({ phase, signal });
      const outcome = outcomes[Math.min(asked.length - 1, outcomes.length - 1)] ?? 'pass';
      return { check: name, outcome, detail: `${name} read ${asked.length}: ${outcome}`, at: 0 };
    },
  };
  return { check, asked };
}

/** Whether a promise has settled by now, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const first = await Promise.race([promise, new Promise((resolve) => setImmediate(() => resolve(marker)))]);
  return first !== marker;
}

let watch: ShiftWatch | undefined;
afterEach(async () => {
  await watch?.stop();
  watch = undefined;
});

function watchWith(
  checks: ShiftCheck[],
  clock: ManualClock,
  extra: Partial<Parameters<typeof startShiftWatch>[1]> = {},
) {
  const readings: CheckReading[] = [];
  watch = startShiftWatch(checks, {
    clock,
    inconclusiveLimit: 3,
    phase: phase1,
    onReading: (reading) => readings.push(reading),
    ...extra,
  });
  return { watch, readings };
}

describe('startShiftWatch', () => {
  it('GIVEN two checks WHEN time passes THEN each reads at once and then on its own interval', async () => {
    const clock = new ManualClock(start);
    const slow = scripted('alarms', 10_000, ['pass']);
    const fast = scripted('probe', 3000, ['pass']);
    watchWith([slow.check, fast.check], clock);
    await clock.advance(0);
    expect([slow.asked.length, fast.asked.length]).toEqual([1, 1]);
    await clock.advance(30_000);
    expect([slow.asked.length, fast.asked.length]).toEqual([4, 11]);
  });

  it('GIVEN nothing fails THEN `failed` never resolves, and latest() holds the last reading of each check', async () => {
    const clock = new ManualClock(start);
    const a = scripted('alarms', 10_000, ['pass']);
    const b = scripted('webhook', 10_000, ['pass']);
    const { watch, readings } = watchWith([a.check, b.check], clock);
    await clock.advance(25_000);
    expect(await settled(watch.failed)).toBe(false);
    expect(readings).toHaveLength(6);
    expect(watch.latest().map((r) => r.detail)).toEqual(['alarms read 3: pass', 'webhook read 3: pass']);
    expect(watch.inconclusive()).toEqual([]);
  });

  it('GIVEN a check fails WHEN others keep reading THEN `failed` resolves once, with the first failing reading', async () => {
    const clock = new ManualClock(start);
    const a = scripted('alarms', 10_000, ['pass', 'fail']);
    const b = scripted('webhook', 10_000, ['pass', 'pass', 'fail']);
    const { watch } = watchWith([a.check, b.check], clock);
    await clock.advance(30_000);
    await expect(watch.failed).resolves.toMatchObject({
      check: 'alarms',
      outcome: 'fail',
      detail: 'alarms read 2: fail',
    });
    expect(watch.latest().map((r) => r.outcome)).toEqual(['fail', 'fail']);
  });

  it('GIVEN a check that has not read yet, or read inconclusive THEN inconclusive() names it: it has not passed', async () => {
    const clock = new ManualClock(start);
    let release: () => void = () => undefined;
    const slow: ShiftCheck = {
      name: 'webhook',
      interval: 10_000,
      read: () =>
        new Promise((resolve) => {
          release = () =>
            resolve({ check: 'webhook', outcome: 'pass', detail: 'webhook answered 200', at: 0 });
        }),
    };
    const unsure = scripted('errorRate', 10_000, ['inconclusive', 'pass']);
    const { watch } = watchWith([slow, unsure.check], clock);
    expect(watch.inconclusive()).toEqual(['webhook', 'errorRate']);
    await clock.advance(0);
    expect(watch.inconclusive()).toEqual(['webhook', 'errorRate']);
    release();
    await clock.advance(10_000);
    expect(watch.inconclusive()).toEqual([]);
  });

  it('GIVEN a check inconclusive for inconclusiveLimit readings in a row THEN the last of them fails, saying so', async () => {
    const clock = new ManualClock(start);
    const probe = scripted('probe', 10_000, ['inconclusive', 'inconclusive', 'inconclusive']);
    const { watch, readings } = watchWith([probe.check], clock);
    await clock.advance(10_000);
    expect(readings.map((r) => r.outcome)).toEqual(['inconclusive', 'inconclusive']);
    expect(await settled(watch.failed)).toBe(false);
    await clock.advance(10_000);
    const failed = await watch.failed;
    expect(failed).toMatchObject({
      check: 'probe',
      outcome: 'fail',
      detail: 'probe inconclusive for 3 windows of 10s: probe read 3: inconclusive',
    });
    expect(clock.now() - start).toBe(20_000);
  });

  it('GIVEN a pass between inconclusive readings THEN the count starts again', async () => {
    const clock = new ManualClock(start);
    const probe = scripted('probe', 10_000, [
      'inconclusive',
      'inconclusive',
      'pass',
      'inconclusive',
      'inconclusive',
    ]);
    const { watch, readings } = watchWith([probe.check], clock);
    await clock.advance(40_000);
    expect(readings.map((r) => r.outcome)).toEqual([
      'inconclusive',
      'inconclusive',
      'pass',
      'inconclusive',
      'inconclusive',
    ]);
    expect(await settled(watch.failed)).toBe(false);
    await clock.advance(10_000);
    await expect(watch.failed).resolves.toMatchObject({ outcome: 'fail' });
  });

  it('GIVEN the error rate inconclusive from green first taking traffic THEN it fails after 3 windows of its data, not 3 readings', async () => {
    const clock = new ManualClock(start);
    const calls: [string[], number, number][] = [];
    const metrics: TrafficMetrics = {
      async requestCounts(fleets, from, to) {
        calls.push([fleets, from, to]);
        return { green: { requests: 12, errors: 0 }, blue: { requests: 900, errors: 1 } };
      },
    };
    const check = errorRateCheck({
      metrics,
      green: 'green',
      blue: 'blue',
      max: 1,
      minRequests: 50,
      window: 60_000,
      interval: 10_000,
      clock,
    });
    const { watch, readings } = watchWith([check], clock);
    await clock.advance(170_000);
    expect(readings).toHaveLength(18);
    expect(readings.every((r) => r.outcome === 'inconclusive' && r.detail === '12 requests < 50')).toBe(true);
    await clock.advance(10_000);
    await expect(watch.failed).resolves.toMatchObject({
      check: 'errorRate',
      outcome: 'fail',
      detail: 'errorRate inconclusive for 3 windows of 1m: 12 requests < 50',
    });
    // Each read looks back one window, never before green's first traffic.
    expect(calls[0]).toEqual([['green', 'blue'], start, start]);
    expect(calls[3]).toEqual([['green', 'blue'], start, start + 30_000]);
    expect(calls[18]).toEqual([['green', 'blue'], start + 120_000, start + 180_000]);
  });

  it('GIVEN green has had traffic for long WHEN the error rate turns inconclusive THEN its first reading already covers a window', async () => {
    const clock = new ManualClock(start);
    let counts: RequestCounts = { requests: 5000, errors: 0 };
    const metrics: TrafficMetrics = { requestCounts: async () => ({ green: counts }) };
    const check = errorRateCheck({
      metrics,
      green: 'green',
      max: 1,
      minRequests: 50,
      window: 60_000,
      interval: 10_000,
      clock,
    });
    const long = { ...phase1, greenSince: start - 600_000 };
    const { watch, readings } = watchWith([check], clock, { phase: long });
    await clock.advance(0);
    counts = { requests: 3, errors: 0 };
    // First inconclusive at 10 s, covering from 50 s before: three windows are covered at 130 s.
    await clock.advance(120_000);
    expect(await settled(watch.failed)).toBe(false);
    await clock.advance(10_000);
    await expect(watch.failed).resolves.toMatchObject({
      detail: 'errorRate inconclusive for 3 windows of 1m: 3 requests < 50',
    });
    expect(readings.filter((r) => r.outcome === 'inconclusive')).toHaveLength(12);
  });

  it('GIVEN a read that throws or rejects THEN it is a failed reading, and the watch goes on', async () => {
    const clock = new ManualClock(start);
    let reads = 0;
    const throwing: ShiftCheck = {
      name: 'alarms',
      interval: 10_000,
      read: () => {
        reads++;
        if (reads === 1)
          throw new Error('AccessDenied: not authorized to perform cloudwatch:DescribeAlarms\nstack');
        return Promise.reject(new Error('ThrottlingException'));
      },
    };
    const other = scripted('webhook', 10_000, ['pass']);
    const { watch, readings } = watchWith([throwing, other.check], clock);
    await clock.advance(10_000);
    await expect(watch.failed).resolves.toEqual({
      check: 'alarms',
      outcome: 'fail',
      detail: 'alarms could not be read: AccessDenied: not authorized to perform cloudwatch:DescribeAlarms',
      at: start,
    });
    expect(readings.filter((r) => r.check === 'alarms').map((r) => r.detail)).toEqual([
      'alarms could not be read: AccessDenied: not authorized to perform cloudwatch:DescribeAlarms',
      'alarms could not be read: ThrottlingException',
    ]);
    expect(other.asked).toHaveLength(2);
  });

  it('GIVEN onReading throws THEN the checks keep reading', async () => {
    const clock = new ManualClock(start);
    const a = scripted('alarms', 10_000, ['pass', 'fail']);
    const { watch } = watchWith([a.check], clock, {
      onReading: () => {
        throw new Error('listener broke');
      },
    });
    await clock.advance(10_000);
    await expect(watch.failed).resolves.toMatchObject({ outcome: 'fail' });
  });

  it('GIVEN setPhase WHEN the checks read next THEN they see the new step', async () => {
    const clock = new ManualClock(start);
    const a = scripted('webhook', 10_000, ['pass']);
    const { watch } = watchWith([a.check], clock);
    await clock.advance(0);
    watch.setPhase(phase2);
    await clock.advance(10_000);
    expect(a.asked.map((r) => r.phase.step)).toEqual([0, 1]);
  });

  it('GIVEN a check with work of its own THEN it runs for the whole watch with the current phase, and ends on stop()', async () => {
    const clock = new ManualClock(start);
    const seen: number[] = [];
    let ended = false;
    const busy: ShiftCheck = {
      name: 'probe',
      interval: 10_000,
      read: async () => ({ check: 'probe', outcome: 'pass', detail: '', at: 0 }),
      async run({ clock: c, signal, phase }) {
        try {
          for (;;) {
            seen.push(phase().step);
            await c.sleep(200, signal);
          }
        } catch {
          ended = true;
        }
      },
    };
    const { watch } = watchWith([busy], clock);
    await clock.advance(1000);
    watch.setPhase(phase2);
    await clock.advance(1000);
    expect(seen.filter((s) => s === 0)).toHaveLength(6);
    expect(seen.filter((s) => s === 1)).toHaveLength(5);
    await watch.stop();
    expect(ended).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('GIVEN work of its own that throws THEN the check fails', async () => {
    const clock = new ManualClock(start);
    const broken: ShiftCheck = {
      name: 'probe',
      interval: 10_000,
      read: async () => ({ check: 'probe', outcome: 'pass', detail: '', at: 0 }),
      run: async () => {
        throw new Error('no socket');
      },
    };
    const { watch } = watchWith([broken], clock);
    await expect(watch.failed).resolves.toMatchObject({
      outcome: 'fail',
      detail: 'probe stopped working: no socket',
    });
  });

  it('GIVEN reads in flight and sleeps pending WHEN stop() THEN their signal aborts, no timer is left and nothing more is read', async () => {
    const clock = new ManualClock(start);
    let inFlight: AbortSignal | undefined;
    const hanging: ShiftCheck = {
      name: 'webhook',
      interval: 10_000,
      // Ignores its signal on purpose: stop() must not wait for it.
      read: (_phase, signal) => {
        inFlight = signal;
        return new Promise<CheckReading>(() => undefined);
      },
    };
    const sleeper = scripted('alarms', 10_000, ['pass']);
    const { watch, readings } = watchWith([hanging, sleeper.check], clock);
    await clock.advance(0);
    expect(clock.pending()).toBe(1);
    await watch.stop();
    expect(inFlight?.aborted).toBe(true);
    expect(clock.pending()).toBe(0);
    const before = readings.length;
    await clock.advance(60_000);
    expect(readings).toHaveLength(before);
    expect(sleeper.asked).toHaveLength(1);
    await watch.stop(); // A second stop is harmless.
  });

  it("GIVEN the deploy's signal aborts THEN the watch stops as with stop()", async () => {
    const clock = new ManualClock(start);
    const deploy = new AbortController();
    const a = scripted('alarms', 10_000, ['pass']);
    watchWith([a.check], clock, { signal: deploy.signal });
    await clock.advance(0);
    deploy.abort(new Error('Ctrl-C'));
    await clock.advance(0);
    expect(clock.pending()).toBe(0);
    await clock.advance(30_000);
    expect(a.asked).toHaveLength(1);
  });
});

describe('alarmsCheck', () => {
  it('GIVEN the target returns no reading for a name THEN that alarm counts as unreadable', async () => {
    const check = alarmsCheck({
      alarms: { read: async () => [{ name: 'a', state: 'OK' }] },
      names: ['a', 'b'],
      ignoreReadErrors: false,
      interval: 10_000,
    });
    await expect(check.read(phase1, new AbortController().signal)).resolves.toMatchObject({
      check: 'alarms',
      outcome: 'fail',
      detail: expect.stringContaining('cannot read alarm `b` (no reading returned for it)'),
    });
  });
});

describe('shiftChecksFrom', () => {
  const body = { artifact: 'catalog', environment: 'prod', version: 'v2', deployment: 'd-1' };
  const config = (over: Partial<ChecksConfig>): ChecksConfig => ({
    interval: 10_000,
    inconclusiveLimit: 3,
    ignoreAlarmReadErrors: false,
    ...over,
  });
  const metrics: TrafficMetrics = { requestCounts: async () => ({}) };
  const alarms = { read: async () => [] };

  it('GIVEN no checks config THEN there are no checks', async () => {
    await expect(shiftChecksFrom(undefined, { target: {}, green: 'g', body })).resolves.toEqual([]);
  });

  it('GIVEN every check THEN each is built with its name, read interval and window', async () => {
    const checks = await shiftChecksFrom(
      config({
        errorRate: { max: 1, window: 60_000, minRequests: 50, maxOverBlue: undefined },
        alarms: ['a'],
        webhook: { url: 'http://127.0.0.1:9/', timeout: 5000 },
        probe: { path: '/', interval: 200, maxFailures: 0, timeout: 2000 },
      }),
      {
        target: { metrics, alarms, publicUrl: async () => 'http://127.0.0.1:8080' },
        green: 'g',
        blue: 'b',
        body,
      },
    );
    expect(checks.map((c) => [c.name, c.interval, c.window])).toEqual([
      ['errorRate', 10_000, 60_000],
      ['alarms', 10_000, undefined],
      ['webhook', 10_000, undefined],
      ['probe', 10_000, undefined],
    ]);
  });

  it.each<[string, Partial<ChecksConfig>, ShiftCheckSources['target'], RegExp]>([
    [
      'errorRate',
      { errorRate: { max: 1, window: 60_000, minRequests: 50, maxOverBlue: undefined } },
      {},
      /does not count responses per fleet/,
    ],
    ['alarms', { alarms: ['a'] }, {}, /has no alarms to read/],
    [
      'probe',
      { probe: { path: '/', interval: 200, maxFailures: 0, timeout: 2000 } },
      {},
      /has no public address/,
    ],
    [
      'probe',
      { probe: { path: '/', interval: 200, maxFailures: 0, timeout: 2000 } },
      { publicUrl: async () => undefined },
      /has no public address/,
    ],
  ])(
    'GIVEN %s the target cannot serve THEN a UserInputError names the key',
    async (key, over, target, message) => {
      const error = await shiftChecksFrom(config(over), { target, green: 'g', body }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as Error).message).toMatch(new RegExp(`^\`environments\\.prod\\.checks\\.${key}\`: `));
      expect((error as Error).message).toMatch(message);
    },
  );
});
