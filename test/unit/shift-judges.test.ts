import { describe, expect, it } from 'vitest';
import { assessAlarms } from '../../healthchecks/alarms.js';
import { assessErrorRate, formatPercent } from '../../healthchecks/error-rate.js';
import { assessProbe, type ProbeTally } from '../../healthchecks/probe.js';
import { assessWebhook } from '../../healthchecks/webhook.js';
import { formatDurationSetting } from '../../src/duration.js';

const limits = { max: 1, minRequests: 50 };

describe('assessErrorRate', () => {
  it('GIVEN green over the limit THEN it fails saying rate, requests and limit', () => {
    expect(assessErrorRate({ requests: 412, errors: 33 }, undefined, limits)).toEqual({
      outcome: 'fail',
      detail: 'green 5xx rate 8% over 412 requests > 1%',
      value: (33 / 412) * 100,
      threshold: 1,
      counted: { requests: 412, failed: 33 },
    });
    expect(assessErrorRate({ requests: 1000, errors: 79 }, undefined, limits).detail).toBe(
      'green 5xx rate 7.9% over 1000 requests > 1%',
    );
  });

  it('GIVEN green within the limit THEN it passes', () => {
    expect(assessErrorRate({ requests: 1000, errors: 3 }, undefined, limits)).toMatchObject({
      outcome: 'pass',
      detail: 'green 5xx rate 0.3% over 1000 requests ≤ 1%',
    });
  });

  it('GIVEN exactly the limit (7 in 700) THEN it passes: only above the limit fails', () => {
    expect(assessErrorRate({ requests: 700, errors: 7 }, undefined, limits).outcome).toBe('pass');
    expect(assessErrorRate({ requests: 1000, errors: 1 }, undefined, { ...limits, max: 0.1 }).outcome).toBe(
      'pass',
    );
  });

  it('GIVEN a rate just above the limit THEN the detail never prints it as the limit', () => {
    expect(assessErrorRate({ requests: 25_000, errors: 251 }, undefined, limits).detail).toBe(
      'green 5xx rate 1.004% over 25000 requests > 1%',
    );
  });

  it('GIVEN max 0 THEN one error fails', () => {
    expect(assessErrorRate({ requests: 5000, errors: 1 }, undefined, { ...limits, max: 0 })).toMatchObject({
      outcome: 'fail',
      detail: 'green 5xx rate 0.02% over 5000 requests > 0%',
    });
  });

  it('GIVEN no counts for green THEN it is inconclusive, never a pass', () => {
    expect(assessErrorRate(undefined, { requests: 9000, errors: 0 }, limits)).toEqual({
      outcome: 'inconclusive',
      detail: 'no request counts for green yet',
    });
  });

  it('GIVEN fewer requests than minRequests THEN it is inconclusive, even with every one an error', () => {
    expect(assessErrorRate({ requests: 12, errors: 12 }, undefined, limits)).toEqual({
      outcome: 'inconclusive',
      detail: '12 requests < 50',
      value: 12,
      threshold: 50,
      counted: { requests: 12, failed: 12 },
    });
    expect(assessErrorRate({ requests: 50, errors: 0 }, undefined, limits).outcome).toBe('pass');
  });

  describe('maxOverBlue', () => {
    const options = { ...limits, max: 5, maxOverBlue: 0.5 };

    it('GIVEN green more than the allowed points above blue THEN it fails, saying both rates', () => {
      expect(
        assessErrorRate({ requests: 1000, errors: 21 }, { requests: 3000, errors: 15 }, options),
      ).toEqual({
        outcome: 'fail',
        detail:
          "green 5xx rate 2.1% over 1000 requests is 1.6 points above blue's 0.5% over 3000 requests > 0.5 allowed",
        value: 2.1,
        threshold: 1,
        counted: { requests: 1000, failed: 21 },
      });
    });

    it('GIVEN green within the allowed points of blue THEN it passes, saying both rates', () => {
      expect(
        assessErrorRate({ requests: 1000, errors: 9 }, { requests: 3000, errors: 15 }, options),
      ).toMatchObject({
        outcome: 'pass',
        detail: "green 5xx rate 0.9% over 1000 requests ≤ 5%, blue's 0.5% over 3000 requests",
      });
    });

    it('GIVEN exactly the allowed points above blue THEN it passes', () => {
      expect(
        assessErrorRate({ requests: 1000, errors: 10 }, { requests: 1000, errors: 5 }, options).outcome,
      ).toBe('pass');
    });

    it('GIVEN blue with too few requests or no counts THEN only the absolute limit judges green', () => {
      expect(
        assessErrorRate({ requests: 1000, errors: 21 }, { requests: 10, errors: 0 }, options),
      ).toMatchObject({
        outcome: 'pass',
        detail: 'green 5xx rate 2.1% over 1000 requests ≤ 5%; not compared with blue (10 requests < 50)',
      });
      expect(assessErrorRate({ requests: 1000, errors: 21 }, undefined, options)).toMatchObject({
        outcome: 'pass',
        detail: 'green 5xx rate 2.1% over 1000 requests ≤ 5%; not compared with blue (no counts)',
      });
    });

    it('GIVEN green above the absolute limit THEN that fails first, whatever blue does', () => {
      expect(
        assessErrorRate({ requests: 1000, errors: 60 }, { requests: 1000, errors: 58 }, options),
      ).toMatchObject({ outcome: 'fail', detail: 'green 5xx rate 6% over 1000 requests > 5%' });
    });
  });

  it.each([
    [7.9, '7.9'],
    [0.46, '0.46'],
    [1, '1'],
    [12.345, '12.3'],
    [0, '0'],
    [100, '100'],
  ])('formats %s%% as %s', (percent, text) => {
    expect(formatPercent(percent)).toBe(text);
  });
});

describe('assessAlarms', () => {
  it('GIVEN every alarm OK or INSUFFICIENT_DATA THEN it passes, as CodeDeploy counts them', () => {
    expect(
      assessAlarms(
        [
          { name: 'catalog-prod-5xx', state: 'OK' },
          { name: 'catalog-prod-latency', state: 'INSUFFICIENT_DATA' },
        ],
        false,
      ),
    ).toMatchObject({
      outcome: 'pass',
      detail: 'no alarm in ALARM: catalog-prod-5xx OK, catalog-prod-latency INSUFFICIENT_DATA',
    });
  });

  it('GIVEN an alarm in ALARM THEN it fails naming it and why', () => {
    expect(
      assessAlarms(
        [
          { name: 'catalog-prod-5xx', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [12.0] > 5.0' },
          { name: 'catalog-prod-latency', state: 'OK' },
        ],
        false,
      ),
    ).toMatchObject({
      outcome: 'fail',
      detail: 'alarm `catalog-prod-5xx` in ALARM: Threshold Crossed: 1 datapoint [12.0] > 5.0',
    });
  });

  it('GIVEN two alarms in ALARM THEN it names both', () => {
    expect(
      assessAlarms(
        [
          { name: 'a', state: 'ALARM' },
          { name: 'b', state: 'ALARM' },
        ],
        true,
      ).detail,
    ).toBe('alarms `a`, `b` in ALARM');
  });

  it('GIVEN an alarm that cannot be read THEN it fails, unless read errors are ignored', () => {
    const readings = [
      { name: 'a', state: 'OK' as const },
      { name: 'gone', unreadable: 'no such alarm' },
    ];
    expect(assessAlarms(readings, false)).toMatchObject({
      outcome: 'fail',
      detail:
        'cannot read alarm `gone` (no such alarm); set ignoreAlarmReadErrors: true to let unreadable alarms pass',
    });
    expect(assessAlarms(readings, true)).toMatchObject({
      outcome: 'pass',
      detail: 'no alarm in ALARM: a OK, gone unreadable (ignored)',
    });
  });

  it('GIVEN an alarm in ALARM beside one ignored as unreadable THEN the ALARM still fails', () => {
    expect(
      assessAlarms(
        [
          { name: 'gone', unreadable: 'AccessDenied' },
          { name: 'a', state: 'ALARM' },
        ],
        true,
      ).outcome,
    ).toBe('fail');
  });

  it('GIVEN a long reason THEN it is cut', () => {
    const detail = assessAlarms([{ name: 'a', state: 'ALARM', reason: 'x'.repeat(1000) }], false).detail;
    expect(detail.length).toBeLessThan(260);
    expect(detail).toMatch(/…$/);
  });
});

describe('assessWebhook', () => {
  it.each([200, 201, 204, 299])('GIVEN %i THEN it passes', (status) => {
    expect(assessWebhook({ status, body: 'anything' }, 5000)).toEqual({
      outcome: 'pass',
      detail: `webhook answered ${status}`,
      value: status,
    });
  });

  it.each([
    [{ status: 503, body: '' }, 'webhook answered 503'],
    [{ status: 409, body: '{"error":"deploy_frozen"}' }, 'webhook answered 409 deploy_frozen'],
    [{ status: 302, body: '' }, 'webhook answered 302'],
    [
      { status: 404, body: 'Cannot POST /hooks/SECRET' },
      'webhook answered 404 (an answer of 25 bytes, not shown: it may repeat the request)',
    ],
    [{ error: 'ETIMEDOUT' }, 'webhook: no answer within 5s (ETIMEDOUT)'],
    [{ error: 'ECONNREFUSED' }, 'webhook: request failed: ECONNREFUSED'],
  ])('GIVEN %j THEN it fails: %s', (answer, detail) => {
    expect(assessWebhook(answer, 5000)).toMatchObject({ outcome: 'fail', detail });
  });
});

describe('assessProbe', () => {
  const tally = (over: Partial<ProbeTally>): ProbeTally => ({
    step: 2,
    phase: 'step',
    requests: 140,
    failed: 0,
    ...over,
  });
  const options = { path: '/', maxFailures: 0 };

  it('GIVEN more failures in the step than allowed THEN it fails, counting them', () => {
    expect(assessProbe(tally({ failed: 3, lastFailure: '503' }), options)).toEqual({
      outcome: 'fail',
      detail: 'probe: 3 of 140 requests to / failed in step 2 > 0 allowed (last: 503)',
      value: 3,
      threshold: 0,
      counted: { requests: 140, failed: 3 },
    });
  });

  it('GIVEN failures within maxFailures THEN it passes', () => {
    expect(
      assessProbe(tally({ failed: 2, lastFailure: 'ETIMEDOUT' }), { ...options, maxFailures: 2 }),
    ).toMatchObject({
      outcome: 'pass',
      detail: 'probe: 2 of 140 requests to / failed in step 2, ≤ 2 allowed (last: ETIMEDOUT)',
    });
  });

  it('GIVEN the bake THEN it says so', () => {
    expect(assessProbe(tally({ phase: 'bake', failed: 1 }), options).detail).toBe(
      'probe: 1 of 140 requests to / failed in the bake > 0 allowed',
    );
  });

  it('GIVEN no request finished in the step yet THEN it is inconclusive', () => {
    expect(assessProbe(tally({ requests: 0 }), options)).toEqual({
      outcome: 'inconclusive',
      detail: 'probe: no request to / finished yet in step 2',
    });
  });
});

describe('formatDurationSetting', () => {
  it.each([
    [60_000, '1m'],
    [10_000, '10s'],
    [200, '200ms'],
    [1500, '1.5s'],
    [90_000, '1.5m'],
    [1250, '1250ms'],
    [3_600_000, '1h'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDurationSetting(ms)).toBe(text);
  });
});
