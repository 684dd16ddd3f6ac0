import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { tgDimension } from '../fake-aws/cloudwatch.js';
import { exampleAccount } from '../fake-aws/install.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { lb, listenerArn, tgA, tgB } from './fixtures.js';

/** The fake account's CloudWatch must behave as AWS documents (see BEHAVIOUR.md), or the metrics tests prove nothing. */

const minute = 60_000;

function account() {
  const clock = new FakeClock();
  const fake = exampleAccount({ now: () => clock.now() });
  // The clock starts on a whole minute: m0.
  return { clock, fake, m0: clock.now() };
}

const query = (
  id: string,
  metric: string,
  dimensions: Record<string, string>,
  period = 60,
): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: 'AWS/ApplicationELB',
      MetricName: metric,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    },
    Period: period,
    Stat: 'Sum',
  },
});

const onTg = (tg: string) => ({ TargetGroup: tgDimension(tg), LoadBalancer: lb });

const forward = (a: number, b: number) => [
  {
    Type: 'forward' as const,
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: tgA, Weight: a },
        { TargetGroupArn: tgB, Weight: b },
      ],
    },
  },
];

/** A second group on target group B, long InService and healthy. */
function seedB(fake: ReturnType<typeof account>['fake']) {
  fake.seedGroup('catalog-b', [...fake.templates.keys()][0] ?? '', tgB, 2);
}

describe('fake CloudWatch: the traffic model', () => {
  it('GIVEN a request rate WHEN the weights change mid-minute THEN each target group counts the requests of its share of the time', () => {
    const { clock, fake, m0 } = account();
    seedB(fake);
    fake.cloudwatch.delayMs = 0;
    fake.cloudwatch.setRequestRate(listenerArn, 600);
    clock.advance(30_000);
    fake.modifyListener(listenerArn, forward(0, 1));
    clock.advance(30_000 + minute);
    const out = fake.cloudwatch.getMetricData({
      MetricDataQueries: [
        query('a', 'RequestCount', onTg(tgA)),
        query('b', 'RequestCount', onTg(tgB)),
        query('all', 'RequestCount', { LoadBalancer: lb }),
      ],
      StartTime: new Date(m0),
      EndTime: new Date(m0 + 2 * minute),
      ScanBy: 'TimestampAscending',
    });
    expect(out.MetricDataResults.map((r) => [r.Id, r.Timestamps?.map((t) => t.getTime()), r.Values])).toEqual(
      [
        ['a', [m0], [300]],
        ['b', [m0, m0 + minute], [300, 600]],
        ['all', [m0, m0 + minute], [600, 600]],
      ],
    );
  });

  it('GIVEN a finished minute THEN its datapoints appear delayMs after it ends (60 s by default), never before', () => {
    const { clock, fake, m0 } = account();
    fake.cloudwatch.setRequestRate(listenerArn, 100);
    const read = () =>
      fake.cloudwatch.getMetricData({
        MetricDataQueries: [query('r', 'RequestCount', onTg(tgA))],
        StartTime: new Date(m0),
        EndTime: new Date(m0 + 10 * minute),
      }).MetricDataResults[0]?.Values;
    clock.advance(minute);
    expect(read()).toEqual([]);
    clock.advance(minute - 1);
    expect(read()).toEqual([]);
    clock.advance(1);
    expect(read()).toEqual([100]);
    expect(fake.cloudwatch.delayMs).toBe(60_000);
  });

  it('GIVEN an AMI with an error ratio, and minutes with no 5xx THEN 5XX datapoints exist only for minutes that had some', () => {
    const { clock, fake, m0 } = account();
    fake.cloudwatch.delayMs = 0;
    fake.cloudwatch.setRequestRate(listenerArn, 100);
    clock.advance(minute);
    fake.cloudwatch.setErrorRatio('ami-0abc1234def567890', 0.1);
    clock.advance(minute);
    fake.cloudwatch.setTargetGroupErrorRatio(tgA, 0.5);
    clock.advance(minute);
    const out = fake.cloudwatch.getMetricData({
      MetricDataQueries: [query('e', 'HTTPCode_Target_5XX_Count', onTg(tgA))],
      StartTime: new Date(m0),
      EndTime: new Date(m0 + 3 * minute),
      ScanBy: 'TimestampAscending',
    });
    expect(out.MetricDataResults[0]?.Timestamps?.map((t) => t.getTime())).toEqual([
      m0 + minute,
      m0 + 2 * minute,
    ]);
    expect(out.MetricDataResults[0]?.Values).toEqual([10, 50]);
  });

  it('GIVEN a target group with no registered target THEN the load balancer answers 503 itself and the group counts nothing', () => {
    const { clock, fake, m0 } = account();
    fake.cloudwatch.delayMs = 0;
    fake.modifyListener(listenerArn, forward(1, 1));
    fake.cloudwatch.setRequestRate(listenerArn, 100);
    clock.advance(minute);
    const out = fake.cloudwatch.getMetricData({
      MetricDataQueries: [
        query('a', 'RequestCount', onTg(tgA)),
        query('b', 'RequestCount', onTg(tgB)),
        query('elb', 'HTTPCode_ELB_5XX_Count', { LoadBalancer: lb }),
      ],
      StartTime: new Date(m0),
      EndTime: new Date(m0 + minute),
    });
    expect(out.MetricDataResults.map((r) => r.Values)).toEqual([[50], [], [50]]);
  });

  it('GIVEN a query whose dimensions are not exactly a published set THEN it matches nothing, as CloudWatch does', () => {
    const { clock, fake, m0 } = account();
    fake.cloudwatch.delayMs = 0;
    fake.cloudwatch.setRequestRate(listenerArn, 100);
    clock.advance(minute);
    const out = fake.cloudwatch.getMetricData({
      MetricDataQueries: [
        query('only', 'RequestCount', { TargetGroup: tgDimension(tgA) }),
        query('arn', 'RequestCount', { TargetGroup: tgA, LoadBalancer: lb }),
      ],
      StartTime: new Date(m0),
      EndTime: new Date(m0 + minute),
    });
    expect(out.MetricDataResults.map((r) => r.Values)).toEqual([[], []]);
  });
});

describe('fake CloudWatch: GetMetricData as AWS answers it', () => {
  it('rounds StartTime down to the minute and returns every period that starts before EndTime', () => {
    const { clock, fake, m0 } = account();
    fake.cloudwatch.delayMs = 0;
    fake.cloudwatch.setRequestRate(listenerArn, 100);
    clock.advance(3 * minute);
    const out = fake.cloudwatch.getMetricData({
      MetricDataQueries: [query('r', 'RequestCount', onTg(tgA))],
      StartTime: new Date(m0 + 30_000),
      EndTime: new Date(m0 + minute + 1),
    });
    expect(out.MetricDataResults[0]?.Timestamps?.map((t) => t.getTime())).toEqual([m0 + minute, m0]);
  });

  it('validates periods, the number of queries, their ids and the time range', () => {
    const { fake, m0 } = account();
    const range = { StartTime: new Date(m0 - minute), EndTime: new Date(m0) };
    const fails = (input: Parameters<typeof fake.cloudwatch.getMetricData>[0]) =>
      expect(() => fake.cloudwatch.getMetricData(input)).toThrowError(
        expect.objectContaining({ name: 'ValidationError' }),
      );
    fails({ MetricDataQueries: [query('r', 'RequestCount', onTg(tgA), 90)], ...range });
    fails({ MetricDataQueries: [query('R', 'RequestCount', onTg(tgA))], ...range });
    fails({ MetricDataQueries: [query('1r', 'RequestCount', onTg(tgA))], ...range });
    fails({
      MetricDataQueries: [query('r', 'RequestCount', onTg(tgA)), query('r', 'RequestCount', onTg(tgB))],
      ...range,
    });
    fails({
      MetricDataQueries: Array.from({ length: 501 }, (_, i) => query(`q${i}`, 'RequestCount', onTg(tgA))),
      ...range,
    });
    fails({
      MetricDataQueries: [query('r', 'RequestCount', onTg(tgA))],
      StartTime: new Date(m0),
      EndTime: new Date(m0),
    });
    expect(
      fake.cloudwatch.getMetricData({
        MetricDataQueries: Array.from({ length: 500 }, (_, i) =>
          query(`q_${i}`, 'RequestCount', onTg(tgA), 300),
        ),
        ...range,
      }).MetricDataResults,
    ).toHaveLength(500);
  });

  it('pages by MaxDatapoints with a NextToken that only continues its own request', () => {
    const { clock, fake, m0 } = account();
    fake.cloudwatch.delayMs = 0;
    fake.cloudwatch.setRequestRate(listenerArn, 100);
    clock.advance(5 * minute);
    const input = {
      MetricDataQueries: [
        query('r', 'RequestCount', onTg(tgA)),
        query('t', 'RequestCount', { LoadBalancer: lb }),
      ],
      StartTime: new Date(m0),
      EndTime: new Date(m0 + 5 * minute),
      MaxDatapoints: 4,
    };
    const first = fake.cloudwatch.getMetricData(input);
    expect(first.MetricDataResults.map((r) => [r.Values?.length, r.StatusCode])).toEqual([
      [4, 'PartialData'],
      [0, 'PartialData'],
    ]);
    const second = fake.cloudwatch.getMetricData({ ...input, NextToken: first.NextToken });
    const third = fake.cloudwatch.getMetricData({ ...input, NextToken: second.NextToken });
    expect(third.NextToken).toBeUndefined();
    expect(third.MetricDataResults.map((r) => r.StatusCode)).toEqual(['Complete', 'Complete']);
    expect(
      [first, second, third].flatMap((page) => page.MetricDataResults.flatMap((r) => r.Values ?? [])),
    ).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
    expect(() =>
      fake.cloudwatch.getMetricData({
        ...input,
        EndTime: new Date(m0 + 4 * minute),
        NextToken: first.NextToken,
      }),
    ).toThrowError(expect.objectContaining({ name: 'InvalidNextToken' }));
  });
});

describe('fake CloudWatch: alarms', () => {
  it('GIVEN no AlarmTypes THEN DescribeAlarms returns metric alarms only, as AWS does', () => {
    const { fake } = account();
    fake.cloudwatch.setAlarm('m', 'OK');
    fake.cloudwatch.setAlarm('c', 'ALARM', { composite: true });
    const names = ['m', 'c'];
    expect(fake.cloudwatch.describeAlarms({ AlarmNames: names }).CompositeAlarms).toEqual([]);
    const both = fake.cloudwatch.describeAlarms({
      AlarmNames: names,
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
    expect(both.MetricAlarms.map((a) => [a.AlarmName, a.StateValue])).toEqual([['m', 'OK']]);
    expect(both.CompositeAlarms.map((a) => [a.AlarmName, a.StateValue])).toEqual([['c', 'ALARM']]);
  });

  it('pages by name, takes at most 100 names, and refuses a token it did not give', () => {
    const { fake } = account();
    for (const name of ['a', 'b', 'c']) fake.cloudwatch.setAlarm(name, 'OK');
    const first = fake.cloudwatch.describeAlarms({ AlarmNames: ['c', 'b', 'a'] });
    expect(first.MetricAlarms.map((a) => a.AlarmName)).toEqual(['a', 'b']);
    const second = fake.cloudwatch.describeAlarms({
      AlarmNames: ['c', 'b', 'a'],
      NextToken: first.NextToken,
    });
    expect(second.MetricAlarms.map((a) => a.AlarmName)).toEqual(['c']);
    expect(second.NextToken).toBeUndefined();
    expect(() => fake.cloudwatch.describeAlarms({ AlarmNames: ['a'], NextToken: '7' })).toThrowError(
      expect.objectContaining({ name: 'InvalidNextToken' }),
    );
    expect(() =>
      fake.cloudwatch.describeAlarms({ AlarmNames: Array.from({ length: 101 }, (_, i) => `n${i}`) }),
    ).toThrowError(expect.objectContaining({ name: 'ValidationError' }));
  });

  it('GIVEN an operation denied THEN the call fails with AccessDenied (403), as IAM answers, and CloudWatch throttles with Throttling', () => {
    const { fake } = account();
    fake.denied.add('DescribeAlarms');
    expect(() => fake.enter('cloudwatch', 'DescribeAlarms')).toThrowError(
      expect.objectContaining({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    fake.throttleRate = 1;
    expect(() => fake.enter('cloudwatch', 'GetMetricData')).toThrowError(
      expect.objectContaining({ name: 'Throttling' }),
    );
  });
});
