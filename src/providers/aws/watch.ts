import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CutoverError } from '../../errors.js';
import type { AlarmReading, Alarms, RequestCounts, TrafficMetrics } from '../types.js';
import type { CloudWatchPort, MetricSeries } from './cloudwatch.js';

/**
 * What the checks that watch a shift read on aws: the ALB's per-target-group counts in CloudWatch, and
 * CloudWatch alarms.
 */

const minute = 60_000;

/** Where a fleet's responses are counted: its target group, and since when it could have served any. */
export interface FleetTraffic {
  targetGroupArn: string;
  createdAt: number;
}

/**
 * `app/<name>/<id>`, the `LoadBalancer` dimension of AWS/ApplicationELB metrics, from a listener's or a
 * listener rule's ARN (both carry their load balancer's).
 */
export function loadBalancerDimension(listenerOrRuleArn: string): string {
  const match = /:listener(?:-rule)?\/(app\/[^/]+\/[^/]+)\//.exec(listenerOrRuleArn);
  if (!match?.[1])
    throw new Error(`\`${listenerOrRuleArn}\` is not an Application Load Balancer listener ARN`);
  return match[1];
}

/** `targetgroup/<name>/<id>`, the `TargetGroup` dimension, from a target group's ARN. */
export function targetGroupDimension(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.indexOf(':targetgroup/') + 1);
}

/** The error's name or code only: AWS messages can carry ARNs, role names and URLs. */
export function errorCode(error: unknown): string {
  const e = error as { name?: string; Code?: string; code?: string };
  if (e.Code) return e.Code;
  if (e.name && e.name !== 'Error') return e.name;
  return e.code ?? 'UnknownError';
}

/**
 * Each fleet's `RequestCount` and `HTTPCode_Target_5XX_Count` (Sum, 60 s) for its target group on the
 * listener's load balancer, over the whole minutes within the window, in one GetMetricData call for all
 * fleets. The ALB publishes these only for minutes with a non-zero count, some time after the minute
 * ends: no RequestCount datapoint at all is no data (undefined), and a minute without a 5XX datapoint
 * had no 5xx. 5xx the load balancer answers itself (`HTTPCode_ELB_5XX_Count`: no healthy target, a
 * target that closed the connection) are published per load balancer only, so they are not counted.
 */
export function cloudWatchMetrics(
  cloudwatch: CloudWatchPort,
  listenerArn: string,
  fleets: (ids: string[]) => Promise<Map<string, FleetTraffic>>,
): TrafficMetrics {
  return {
    async requestCounts(fleetIds, from, to) {
      const counts: Record<string, RequestCounts | undefined> = Object.fromEntries(
        fleetIds.map((id) => [id, undefined]),
      );
      // CloudWatch rounds StartTime down to the minute and returns every period that starts before
      // EndTime: aligning both inwards keeps to the periods that lie wholly within the window.
      const start = Math.ceil(from / minute) * minute;
      const end = Math.floor(to / minute) * minute;
      if (end - start < minute) return counts;
      const found = await fleets(fleetIds);
      const asked = fleetIds.flatMap((id) => {
        const fleet = found.get(id);
        return fleet ? [{ id, ...fleet }] : [];
      });
      if (asked.length === 0) return counts;
      const loadBalancer = loadBalancerDimension(listenerArn);
      const query = (id: string, metric: string, targetGroupArn: string): MetricDataQuery => ({
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: metric,
            Dimensions: [
              { Name: 'TargetGroup', Value: targetGroupDimension(targetGroupArn) },
              { Name: 'LoadBalancer', Value: loadBalancer },
            ],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      });
      let series;
      try {
        series = await cloudwatch.metricData(
          asked.flatMap((fleet, i) => [
            query(`requests${i}`, 'RequestCount', fleet.targetGroupArn),
            query(`errors${i}`, 'HTTPCode_Target_5XX_Count', fleet.targetGroupArn),
          ]),
          new Date(start),
          new Date(end),
        );
      } catch (error) {
        const code = errorCode(error);
        throw new CutoverError(
          'METRICS_UNREADABLE',
          `CloudWatch GetMetricData for the target groups of ${asked.map((f) => `\`${f.id}\``).join(', ')} failed: ${code}`,
          code.startsWith('AccessDenied')
            ? 'allow cloudwatch:GetMetricData (see the IAM policy in the README)'
            : undefined,
          { cause: error },
        );
      }
      const byId = new Map(series.map((s) => [s.id, s]));
      asked.forEach((fleet, i) => {
        const requests = byId.get(`requests${i}`);
        const errors = byId.get(`errors${i}`);
        if (!requests || !errors || requests.status !== 'Complete' || errors.status !== 'Complete') return;
        // A target group passes from one fleet to the next: minutes before this group existed are another's.
        const since = Math.max(start, Math.ceil(fleet.createdAt / minute) * minute);
        const within = (s: MetricSeries) => s.points.filter((p) => p.at >= since && p.at < end);
        const sum = (s: MetricSeries) => within(s).reduce((total, p) => total + p.value, 0);
        if (within(requests).length === 0) return;
        const failed = sum(errors);
        // Every 5xx a target sent answered a request: never fewer requests than errors.
        counts[fleet.id] = { requests: Math.max(sum(requests), failed), errors: failed };
      });
      return counts;
    },
  };
}

/** DescribeAlarms for metric and composite alarms: one reading per name asked, in order. */
export function cloudWatchAlarms(cloudwatch: CloudWatchPort): Alarms {
  return {
    async read(names) {
      if (names.length === 0) return [];
      let found;
      try {
        found = await cloudwatch.alarms([...new Set(names)]);
      } catch (error) {
        const code = errorCode(error);
        return names.map((name): AlarmReading => ({ name, unreadable: code }));
      }
      const byName = new Map(found.map((a) => [a.name, a]));
      return names.map((name): AlarmReading => {
        const alarm = byName.get(name);
        if (!alarm) return { name, unreadable: 'no such alarm' };
        return { name, state: alarm.state, ...(alarm.reason ? { reason: alarm.reason } : {}) };
      });
    },
  };
}
