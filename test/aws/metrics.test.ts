import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../src/controller/deploy.js';
import type { FleetInfo, Target } from '../../src/providers/types.js';
import { awsHarness } from './harness.js';
import { tgDimension } from '../fake-aws/cloudwatch.js';
import { baseGroup, flakyAmi, goodAmi, goodAmi2, lb, listenerArn, tgB } from './fixtures.js';

/**
 * The aws target's metrics, alarms and public URL (issue 9) against the fake account's CloudWatch, whose
 * traffic model turns a request rate and the listener weights into the ALB's per-minute sums.
 */

const minute = 60_000;
const rate = 1000; // requests a minute at the production listener

let h: ReturnType<typeof awsHarness>;
afterEach(() => h.cleanup());

/** The target as the checks use it: these are optional on Target, but the aws target has them. */
function parts(target: Target) {
  const { metrics, alarms, publicUrl } = target;
  if (!metrics || !alarms || !publicUrl) throw new Error('the aws target lacks metrics, alarms or publicUrl');
  return { metrics, alarms, publicUrl: publicUrl.bind(target) };
}

/** Launches `version` beside the base group and gives it `percent` of traffic, as a canary step does. */
async function canary(version: string, percent: number): Promise<FleetInfo> {
  const { fleet, router } = h.ctx.target;
  const green = await fleet.launch({ id: 'unused', version, deployment: 'd-1' });
  await fleet.waitReady(green.id, h.clock.now() + 20 * minute, () => {});
  await router.setWeights({ [baseGroup]: 100 - percent, [green.id]: percent });
  return green;
}

/** Sleeps to the next minute boundary and returns it. */
async function nextMinute(): Promise<number> {
  await h.clock.sleep(minute - (h.clock.now() % minute));
  return h.clock.now();
}

/**
 * A fresh account where `version` takes `percent`% beside the base group and, from the next whole
 * minute (m0) on, `perMinute` requests a minute arrive at the production listener.
 */
async function canaryWithTraffic(version: string, percent: number, perMinute = rate) {
  h = awsHarness();
  const green = await canary(version, percent);
  const m0 = await nextMinute();
  h.account.cloudwatch.setRequestRate(listenerArn, perMinute);
  return { metrics: parts(h.ctx.target).metrics, green, m0 };
}

describe('aws metrics: requests and 5xx per fleet from CloudWatch', () => {
  it('GIVEN 90/10 weights for five minutes WHEN the minutes are published THEN each fleet has its share, in one call', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(goodAmi2, 10);
    // Five minutes of traffic, and one more for the last of them to be published.
    await h.clock.sleep(6 * minute);
    const before = h.account.calls.get('GetMetricData') ?? 0;
    const counts = await metrics.requestCounts([baseGroup, green.id], m0, m0 + 5 * minute);
    expect(counts).toEqual({
      [baseGroup]: { requests: 4500, errors: 0 },
      [green.id]: { requests: 500, errors: 0 },
    });
    expect((h.account.calls.get('GetMetricData') ?? 0) - before).toBe(1);
  });

  it('GIVEN a window that starts and ends inside minutes THEN only the whole minutes within it count', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(goodAmi2, 10);
    await h.clock.sleep(6 * minute);
    // 00:30 to 03:30 holds the minutes starting at 01:00 and 02:00.
    const counts = await metrics.requestCounts([baseGroup, green.id], m0 + 30_000, m0 + 3 * minute + 30_000);
    expect(counts).toEqual({
      [baseGroup]: { requests: 1800, errors: 0 },
      [green.id]: { requests: 200, errors: 0 },
    });
  });

  it('GIVEN traffic WHEN the window holds no whole minute THEN every fleet is undefined, without a call', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(goodAmi2, 10);
    await h.clock.sleep(5 * minute);
    const before = h.account.calls.get('GetMetricData') ?? 0;
    // 00:30 to 01:40 is in two minutes, neither of them whole: CloudWatch would return both.
    const counts = await metrics.requestCounts([baseGroup, green.id], m0 + 30_000, m0 + 100_000);
    expect(counts).toEqual({ [baseGroup]: undefined, [green.id]: undefined });
    expect(h.account.calls.get('GetMetricData') ?? 0).toBe(before);
  });

  it('GIVEN a shift with no traffic THEN every fleet is undefined (nothing published), never zero requests', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(goodAmi2, 10, 0);
    await h.clock.sleep(6 * minute);
    const counts = await metrics.requestCounts([baseGroup, green.id], m0, m0 + 5 * minute);
    expect(counts).toEqual({ [baseGroup]: undefined, [green.id]: undefined });
    expect(h.account.calls.get('GetMetricData')).toBe(1);
  });

  it('GIVEN minutes not yet published WHEN reading up to now THEN only the published ones count, and none is undefined', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(goodAmi2, 10);
    await h.clock.sleep(minute + 30_000);
    // The first minute ended 30 s ago; the fake publishes a minute 60 s after its end.
    expect(await metrics.requestCounts([green.id], m0, h.clock.now())).toEqual({ [green.id]: undefined });
    await h.clock.sleep(3 * minute);
    expect(await metrics.requestCounts([green.id], m0, h.clock.now())).toEqual({
      [green.id]: { requests: 300, errors: 0 },
    });
  });

  it('GIVEN a green of an AMI that answers a fifth of requests with 500 THEN its errors are counted, and blue has none', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(flakyAmi, 10);
    await h.clock.sleep(6 * minute);
    const counts = await metrics.requestCounts([baseGroup, green.id], m0, m0 + 5 * minute);
    expect(counts).toEqual({
      [baseGroup]: { requests: 4500, errors: 0 },
      [green.id]: { requests: 500, errors: 100 },
    });
  });

  it('GIVEN CloudWatch pages by datapoints WHEN reading THEN every page is joined per fleet', async () => {
    const { metrics, green, m0 } = await canaryWithTraffic(flakyAmi, 10);
    await h.clock.sleep(11 * minute);
    h.account.cloudwatch.maxDatapoints = 3;
    const counts = await metrics.requestCounts([baseGroup, green.id], m0, m0 + 10 * minute);
    expect(counts).toEqual({
      [baseGroup]: { requests: 9000, errors: 0 },
      [green.id]: { requests: 1000, errors: 200 },
    });
    // 30 datapoints (10 minutes of requests for each group, of 5xx for green) at 3 a page.
    expect(h.account.calls.get('GetMetricData')).toBe(10);
  });

  it('GIVEN a target group that served an older fleet THEN a window reaching back counts only the minutes since green was created', async () => {
    h = awsHarness({ env: { bake: '5m' } });
    const { metrics } = parts(h.ctx.target);
    const start = await nextMinute();
    h.account.cloudwatch.setRequestRate(listenerArn, rate);
    // g1 on target group B takes all traffic; g2 on A replaces it; g3 takes B back from the standby g1.
    await deploy(h.ctx, { deployment: 'd-1', version: goodAmi2 });
    await deploy(h.ctx, { deployment: 'd-2', version: goodAmi });
    await deploy(h.ctx, { deployment: 'd-3', version: flakyAmi });
    const g3 = h.account.groups.get(`${baseGroup}-g3`);
    expect(g3?.targetGroups).toEqual([tgB]);
    await h.clock.sleep(3 * minute);
    const end = Math.floor(h.clock.now() / minute) * minute - 2 * minute;
    const since = Math.ceil((g3?.createdAt ?? 0) / minute) * minute;
    const onBDimensions = { LoadBalancer: lb, TargetGroup: tgDimension(tgB) };
    const onB = (metric: string) => {
      let sum = 0;
      for (let m = since; m < end; m += minute) sum += h.account.cloudwatch.counted(metric, onBDimensions, m);
      return sum;
    };
    // B served g1 for minutes before g3 existed: none of them count.
    const g1Minute = start + 5 * minute;
    expect(g1Minute).toBeLessThan(since);
    expect(h.account.cloudwatch.counted('RequestCount', onBDimensions, g1Minute)).toBeGreaterThan(0);
    expect(onB('RequestCount')).toBeGreaterThan(0);
    expect(await metrics.requestCounts([`${baseGroup}-g3`], start, end)).toEqual({
      [`${baseGroup}-g3`]: { requests: onB('RequestCount'), errors: onB('HTTPCode_Target_5XX_Count') },
    });
  });

  it('GIVEN fleets that are not attached to a target group of the environment THEN they are undefined', async () => {
    h = awsHarness();
    const { metrics } = parts(h.ctx.target);
    const m0 = await nextMinute();
    h.account.cloudwatch.setRequestRate(listenerArn, rate);
    await h.clock.sleep(3 * minute);
    const counts = await metrics.requestCounts([baseGroup, 'no-such-group'], m0, m0 + minute);
    expect(counts).toEqual({ [baseGroup]: { requests: 1000, errors: 0 }, 'no-such-group': undefined });
  });

  it('GIVEN GetMetricData is denied THEN reading fails with the error code only, never IAM’s message', async () => {
    h = awsHarness();
    const { metrics } = parts(h.ctx.target);
    h.account.denied.add('GetMetricData');
    const now = await nextMinute();
    const failure = await metrics.requestCounts([baseGroup], now - 5 * minute, now).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'METRICS_UNREADABLE',
      message: expect.stringContaining('failed: AccessDenied'),
      hint: expect.stringContaining('cloudwatch:GetMetricData'),
    });
    expect((failure as Error).message).not.toContain('arn:');
  });
});

describe('aws alarms: CloudWatch alarm states', () => {
  it('GIVEN metric and composite alarms in each state THEN one reading per name, in order, a missing one unreadable', async () => {
    h = awsHarness();
    const { alarms } = parts(h.ctx.target);
    const cw = h.account.cloudwatch;
    cw.setAlarm('catalog-5xx', 'OK');
    cw.setAlarm('catalog-latency', 'ALARM', {
      reason: 'Threshold Crossed: 3 datapoints were greater than 0.5',
    });
    cw.setAlarm('catalog-health', 'INSUFFICIENT_DATA', { composite: true });
    cw.setAlarm('other-service', 'ALARM');
    const readings = await alarms.read(['catalog-latency', 'catalog-gone', 'catalog-health', 'catalog-5xx']);
    expect(readings).toEqual([
      {
        name: 'catalog-latency',
        state: 'ALARM',
        reason: 'Threshold Crossed: 3 datapoints were greater than 0.5',
      },
      { name: 'catalog-gone', unreadable: 'no such alarm' },
      { name: 'catalog-health', state: 'INSUFFICIENT_DATA', reason: expect.any(String) },
      { name: 'catalog-5xx', state: 'OK', reason: expect.any(String) },
    ]);
  });

  it('GIVEN more names than one DescribeAlarms call takes THEN all are read', async () => {
    h = awsHarness();
    const { alarms } = parts(h.ctx.target);
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
    for (const name of names) h.account.cloudwatch.setAlarm(name, 'OK');
    const readings = await alarms.read(names);
    expect(readings.map((r) => ('state' in r ? r.state : r.unreadable))).toEqual(names.map(() => 'OK'));
  });

  it('GIVEN DescribeAlarms is denied THEN every name is unreadable with the error code only', async () => {
    h = awsHarness();
    const { alarms } = parts(h.ctx.target);
    h.account.cloudwatch.setAlarm('catalog-5xx', 'OK');
    h.account.denied.add('DescribeAlarms');
    expect(await alarms.read(['catalog-5xx', 'catalog-latency'])).toEqual([
      { name: 'catalog-5xx', unreadable: 'AccessDenied' },
      { name: 'catalog-latency', unreadable: 'AccessDenied' },
    ]);
  });

  it('GIVEN CloudWatch throttles every call THEN, after the retries, every name is unreadable as Throttling', async () => {
    h = awsHarness();
    const { alarms } = parts(h.ctx.target);
    h.account.cloudwatch.setAlarm('catalog-5xx', 'OK');
    h.account.throttleRate = 1;
    expect(await alarms.read(['catalog-5xx'])).toEqual([{ name: 'catalog-5xx', unreadable: 'Throttling' }]);
    expect(h.account.calls.get('DescribeAlarms')).toBeGreaterThan(1);
  });
});

describe('aws public URL', () => {
  it('GIVEN an HTTPS listener on 443 THEN the load balancer’s DNS name, without the default port', async () => {
    h = awsHarness();
    expect(await parts(h.ctx.target).publicUrl()).toBe(
      'https://catalog-prod-1234567890.eu-west-1.elb.amazonaws.com',
    );
  });

  it('GIVEN an HTTP listener on another port THEN the port is in the URL', async () => {
    h = awsHarness();
    const listener = h.account.listeners.get(listenerArn);
    if (listener) Object.assign(listener, { port: 8080, protocol: 'HTTP' });
    expect(await parts(h.ctx.target).publicUrl()).toBe(
      'http://catalog-prod-1234567890.eu-west-1.elb.amazonaws.com:8080',
    );
  });

  it('GIVEN a listener rule THEN no public URL: its host and path conditions decide what reaches it', async () => {
    h = awsHarness({
      env: { listener: `${listenerArn.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee` },
    });
    expect(await parts(h.ctx.target).publicUrl()).toBeUndefined();
  });
});
