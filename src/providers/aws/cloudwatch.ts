import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricDataQuery,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { allPages } from './pages.js';
import { call, type RetryOptions } from './retry.js';

/** The CloudWatch calls cutover makes: metric sums for the error-rate check, alarm states for the alarms check. */

/** One query's datapoints over every page, and whether CloudWatch could answer it whole. */
export interface MetricSeries {
  id: string;
  points: { at: number; value: number }[];
  /** `Complete`, or `Forbidden`/`InternalError` for a query CloudWatch could not answer. */
  status: string;
}

export interface AlarmState {
  name: string;
  state: StateValue;
  reason: string | undefined;
}

/** DescribeAlarms takes at most 100 names a call. */
const maxAlarmNames = 100;

export class CloudWatchPort {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly retry: RetryOptions,
  ) {}

  /**
   * GetMetricData for these queries (at most 500, as AWS allows), following NextToken: a query's
   * datapoints may be spread over several pages, which are joined by its Id.
   */
  async metricData(queries: MetricDataQuery[], start: Date, end: Date): Promise<MetricSeries[]> {
    const series = new Map<string, MetricSeries>(
      queries.map((q) => [q.Id ?? '', { id: q.Id ?? '', points: [], status: 'Complete' }]),
    );
    const results = await allPages(async (token) => {
      const page = await call(
        'GetMetricData',
        () =>
          this.client.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: start,
              EndTime: end,
              NextToken: token,
            }),
          ),
        this.retry,
      );
      return { items: page.MetricDataResults, next: page.NextToken };
    });
    for (const result of results) {
      const entry = series.get(result.Id ?? '');
      if (!entry) continue;
      const values = result.Values ?? [];
      (result.Timestamps ?? []).forEach((at, i) =>
        entry.points.push({ at: at.getTime(), value: values[i] ?? 0 }),
      );
      // PartialData only says that another page follows; an answer CloudWatch could not give stays.
      if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError')
        entry.status = result.StatusCode;
    }
    return [...series.values()];
  }

  /**
   * The named metric and composite alarms (without AlarmTypes, DescribeAlarms returns metric alarms
   * only), 100 names a call, every page. A name with no alarm is simply absent.
   */
  async alarms(names: string[]): Promise<AlarmState[]> {
    const found: AlarmState[] = [];
    for (let i = 0; i < names.length; i += maxAlarmNames) {
      const chunk = names.slice(i, i + maxAlarmNames);
      const alarms = await allPages(async (token) => {
        const page = await call(
          'DescribeAlarms',
          () =>
            this.client.send(
              new DescribeAlarmsCommand({
                AlarmNames: chunk,
                AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
                NextToken: token,
              }),
            ),
          this.retry,
        );
        return {
          items: [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])],
          next: page.NextToken,
        };
      });
      for (const alarm of alarms) {
        if (alarm.AlarmName && alarm.StateValue)
          found.push({ name: alarm.AlarmName, state: alarm.StateValue, reason: alarm.StateReason });
      }
    }
    return found;
  }
}
