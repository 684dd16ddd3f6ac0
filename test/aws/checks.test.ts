import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import { awsHarness } from './harness.js';
import { flakyAmi, goodAmi, goodAmi2, listenerArn } from './fixtures.js';

/**
 * The checks of `checks:` on aws, against the fake account's CloudWatch in virtual time: the error rate
 * from the ALB's per-target-group counts, and named alarms.
 */

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

async function v1Live(): Promise<void> {
  const plain = { ...h.ctx, strategy: { name: 'all-at-once' as const } };
  delete plain.checks;
  await deploy(plain, { deployment: 'd-1', version: goodAmi2 });
}

describe('aws: checks during the shift', () => {
  it('GIVEN an error-rate check WHEN a canary of an AMI that answers 5xx to 20% takes 10% THEN CloudWatch counts show it, and traffic goes back before 100%', async () => {
    h = awsHarness({
      env: {
        strategy: '{ name: canary, steps: [10, 100], stepBake: 15m }',
        checks: '{ interval: 1m, errorRate: { max: 1%, window: 3m, minRequests: 50 } }',
      },
    });
    h.account.cloudwatch.setRequestRate(listenerArn, 6000);
    h.account.cloudwatch.setErrorRatio(flakyAmi, 0.2);
    await v1Live();
    const weights: Record<string, number>[] = [];
    h.ctx.events.subscribe((e) => {
      if (e.code === 'traffic.shifted') weights.push(e.fields.versions as Record<string, number>);
    });
    const error = await deploy(h.ctx, { deployment: 'd-2', version: flakyAmi }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECK_FAILED' });
    expect((error as Error).message).toMatch(
      /at 10% of traffic: green 5xx rate (19|20|21)(\.\d)?% over \d+ requests > 1%/,
    );
    expect(weights).toEqual([{ [flakyAmi]: 10, [goodAmi2]: 90 }, { [goodAmi2]: 100 }]);
    expect(Object.values(h.live())).toEqual([100]);
  });

  it('GIVEN the same check WHEN a good AMI is deployed THEN it goes live through every step', async () => {
    h = awsHarness({
      env: {
        strategy: '{ name: canary, steps: [10, 100], stepBake: 15m }',
        checks: '{ interval: 1m, errorRate: { max: 1%, window: 3m, minRequests: 50 } }',
      },
    });
    h.account.cloudwatch.setRequestRate(listenerArn, 6000);
    await v1Live();
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    expect(h.codes()).toContain('deploy.succeeded');
    expect(h.codes()).not.toContain('check.failed');
  });

  it('GIVEN an alarm check WHEN the alarm goes to ALARM with a linear shift at 50% THEN traffic goes back to blue and 75% is never reached', async () => {
    h = awsHarness({
      env: {
        strategy: '{ name: linear, step: 25, interval: 10m }',
        checks: '{ interval: 1m, alarms: [catalog-prod-5xx, catalog-prod-latency] }',
      },
    });
    h.account.cloudwatch.setAlarm('catalog-prod-5xx', 'OK');
    h.account.cloudwatch.setAlarm('catalog-prod-latency', 'INSUFFICIENT_DATA');
    await v1Live();
    const reached: number[] = [];
    h.ctx.events.subscribe((e) => {
      if (e.code !== 'traffic.shifted') return;
      const share = (e.fields.versions as Record<string, number>)[goodAmi] ?? 0;
      reached.push(share);
      if (share === 50)
        h.account.cloudwatch.setAlarm('catalog-prod-5xx', 'ALARM', { reason: 'Threshold Crossed' });
    });
    const error = await deploy(h.ctx, { deployment: 'd-2', version: goodAmi }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECK_FAILED' });
    expect((error as Error).message).toContain('catalog-prod-5xx');
    expect(reached).toEqual([25, 50, 0]);
    expect(Object.values(h.live())).toEqual([100]);
  });

  it('GIVEN an alarm that cannot be read WHEN ignoreAlarmReadErrors is off THEN the step fails; with it on, the deploy goes live', async () => {
    for (const ignore of [false, true]) {
      h = awsHarness({
        env: {
          strategy: '{ name: canary, steps: [10, 100], stepBake: 5m }',
          checks: `{ interval: 1m, alarms: [catalog-prod-missing], ignoreAlarmReadErrors: ${ignore} }`,
        },
      });
      await v1Live();
      const outcome = await deploy(h.ctx, { deployment: 'd-2', version: goodAmi }).then(
        () => 'live',
        (e: unknown) => (e as { code: string }).code,
      );
      expect(outcome).toBe(ignore ? 'live' : 'CHECK_FAILED');
      h.cleanup();
    }
    h = awsHarness();
  });
});
