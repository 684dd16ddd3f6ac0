import type {
  CompositeAlarm,
  MetricAlarm,
  MetricDataQuery,
  MetricDataResult,
  StateValue,
} from '@aws-sdk/client-cloudwatch';
import { awsError, type FakeAwsAccount } from './account.js';

/**
 * The fake account's CloudWatch: a traffic model that turns a request rate and the listener weights in
 * virtual time into the ALB's per-minute sums, and alarms whose state tests set. See BEHAVIOUR.md.
 */

const minute = 60_000;
const second = 1000;

type Dimensions = Record<string, string>;

interface FakeAlarm {
  name: string;
  composite: boolean;
  state: StateValue;
  reason: string;
  updatedAt: number;
}

/** A series is one metric with one exact set of dimensions, as CloudWatch identifies it. */
function seriesKey(metric: string, dimensions: Dimensions): string {
  const dims = Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${metric}|${dims}`;
}

/** `app/<name>/<id>` of a load balancer ARN, and `targetgroup/<name>/<id>` of a target group ARN. */
export function lbDimension(loadBalancerArn: string): string {
  return loadBalancerArn.slice(loadBalancerArn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
}
export function tgDimension(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.indexOf(':targetgroup/') + 1);
}

/** A short, stable digest of a request, so a NextToken only continues the request it came from. */
function digest(text: string): string {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return (hash >>> 0).toString(36);
}

export class FakeCloudWatch {
  /**
   * How long after a minute ends its datapoints appear. AWS documents only that the ALB sends its
   * metrics every 60 seconds; one more minute is our choice of a realistic lag. Tests may set 0.
   */
  delayMs = 60_000;
  /** The most datapoints one GetMetricData page holds: AWS's default MaxDatapoints. Lower it to page. */
  maxDatapoints = 100_800;
  readonly alarms = new Map<string, FakeAlarm>();
  /** Listener ARN → requests per minute arriving at it. */
  private readonly rates = new Map<string, number>();
  /** Target group ARN → share of its requests its targets answer with a 5xx, instead of the AMIs'. */
  private readonly targetGroupErrorRatios = new Map<string, number>();
  /** Series → minute start → the count so far (fractional: rounded when published). */
  private readonly sums = new Map<string, Map<number, number>>();
  /** Traffic has been counted up to here. */
  private countedTo: number;

  constructor(private readonly account: FakeAwsAccount) {
    this.countedTo = account.now();
  }

  // ---------- what tests set ----------

  /** From now on, `perMinute` requests a minute arrive at this listener (0 stops them). */
  setRequestRate(listenerArn: string, perMinute: number): void {
    this.advance();
    this.rates.set(listenerArn, perMinute);
  }

  /** From now on, instances of this AMI answer this share (0–1) of their requests with a 5xx. */
  setErrorRatio(ami: string, ratio: number): void {
    this.advance();
    const image = this.account.images.get(ami);
    if (!image) throw new Error(`the fake account has no AMI ${ami}`);
    image.errorRatio = ratio;
  }

  /** From now on, this share of a target group's requests gets a 5xx from its targets, whatever their AMI. */
  setTargetGroupErrorRatio(targetGroupArn: string, ratio: number | undefined): void {
    this.advance();
    if (ratio === undefined) this.targetGroupErrorRatios.delete(targetGroupArn);
    else this.targetGroupErrorRatios.set(targetGroupArn, ratio);
  }

  /** Creates or changes a metric alarm (or a composite one) in this state. */
  setAlarm(name: string, state: StateValue, options: { composite?: boolean; reason?: string } = {}): void {
    this.alarms.set(name, {
      name,
      composite: options.composite ?? this.alarms.get(name)?.composite ?? false,
      state,
      reason: options.reason ?? `State set to ${state} by the test`,
      updatedAt: this.account.now(),
    });
  }

  /** The count of one minute, published or not, exactly as counted (for tests to compare with). */
  counted(metric: string, dimensions: Dimensions, minuteStart: number): number {
    this.advance();
    return Math.round(this.sums.get(seriesKey(metric, dimensions))?.get(minuteStart) ?? 0);
  }

  // ---------- the traffic model ----------

  /**
   * Counts the traffic from where counting stopped up to now, one second at a time, from the state the
   * account holds: nothing in it has changed since (every change goes through a call, and each call
   * counts first), and what depends on time alone (an instance InService, a target healthy) is read at
   * each second.
   */
  advance(): void {
    const now = this.account.now();
    if (now <= this.countedTo) return;
    if ([...this.rates.values()].some((r) => r > 0)) {
      for (let t = this.countedTo; t < now;) {
        const next = Math.min(now, Math.floor(t / second) * second + second);
        this.countSlice(t, next - t);
        t = next;
      }
    }
    this.countedTo = now;
  }

  private countSlice(at: number, ms: number): void {
    const minuteStart = Math.floor(at / minute) * minute;
    for (const [listenerArn, perMinute] of this.rates) {
      const listener = this.account.listeners.get(listenerArn);
      if (!listener || perMinute <= 0) continue;
      const lb = { LoadBalancer: lbDimension(listener.loadBalancerArn) };
      const requests = (perMinute * ms) / minute;
      const weights = Object.entries(this.account.weights(listenerArn)).filter(([, w]) => w > 0);
      const total = weights.reduce((sum, [, w]) => sum + w, 0);
      if (total === 0) this.add('HTTPCode_ELB_5XX_Count', lb, minuteStart, requests);
      for (const [tg, weight] of weights) {
        const share = (requests * weight) / total;
        const ratios = this.servingErrorRatios(tg, at);
        if (ratios.length === 0) {
          // No target to send it to: the load balancer answers 503 itself, and no target counts it.
          this.add('HTTPCode_ELB_5XX_Count', lb, minuteStart, share);
          continue;
        }
        const ratio =
          this.targetGroupErrorRatios.get(tg) ?? ratios.reduce((a, b) => a + b, 0) / ratios.length;
        const both = { ...lb, TargetGroup: tgDimension(tg) };
        for (const dims of [lb, both]) {
          this.add('RequestCount', dims, minuteStart, share);
          this.add('HTTPCode_Target_5XX_Count', dims, minuteStart, share * ratio);
        }
      }
    }
  }

  /**
   * The error ratio of each target that takes requests at `at`: requests are spread evenly over the
   * healthy targets; with none healthy, over every registered one (the ALB fails open).
   */
  private servingErrorRatios(targetGroupArn: string, at: number): number[] {
    const registered: { healthy: boolean; ratio: number }[] = [];
    for (const group of this.account.groups.values()) {
      if (!group.targetGroups.includes(targetGroupArn)) continue;
      for (const instance of group.instances) {
        const state = this.account.targetState(targetGroupArn, instance, at);
        if (state === 'unregistered') continue;
        const image = this.account.images.get(instance.ami);
        const works = this.account.instanceWorks(instance, at);
        registered.push({ healthy: state === 'healthy', ratio: image?.errorRatio ?? (works ? 0 : 1) });
      }
    }
    const healthy = registered.filter((t) => t.healthy);
    return (healthy.length > 0 ? healthy : registered).map((t) => t.ratio);
  }

  private add(metric: string, dimensions: Dimensions, minuteStart: number, value: number): void {
    if (value <= 0) return;
    const key = seriesKey(metric, dimensions);
    let series = this.sums.get(key);
    if (!series) this.sums.set(key, (series = new Map()));
    series.set(minuteStart, (series.get(minuteStart) ?? 0) + value);
  }

  /** A minute's rounded count once it is published; absent while it is not, or when it is zero. */
  private published(key: string, minuteStart: number): number | undefined {
    if (minuteStart + minute + this.delayMs > this.account.now()) return undefined;
    const value = Math.round(this.sums.get(key)?.get(minuteStart) ?? 0);
    return value > 0 ? value : undefined;
  }

  // ---------- the API ----------

  getMetricData(input: {
    MetricDataQueries?: MetricDataQuery[];
    StartTime?: Date;
    EndTime?: Date;
    NextToken?: string;
    ScanBy?: string;
    MaxDatapoints?: number;
  }): { MetricDataResults: MetricDataResult[]; NextToken?: string; Messages: [] } {
    const queries = input.MetricDataQueries ?? [];
    if (queries.length === 0)
      throw awsError('ValidationError', 'The parameter MetricDataQueries is required.');
    if (queries.length > 500)
      throw awsError(
        'ValidationError',
        'The collection MetricDataQueries must not have a size greater than 500.',
      );
    if (!input.StartTime || !input.EndTime)
      throw awsError('ValidationError', 'The parameters StartTime and EndTime are required.');
    const startTime = input.StartTime.getTime();
    const endTime = input.EndTime.getTime();
    if (startTime >= endTime)
      throw awsError('ValidationError', 'The parameter StartTime must be less than the parameter EndTime.');
    if (input.MaxDatapoints !== undefined && input.MaxDatapoints < 1)
      throw awsError('ValidationError', 'The parameter MaxDatapoints must be greater than 0.');
    const ids = new Set<string>();
    queries.forEach((query, i) => {
      const id = query.Id ?? '';
      if (!/^[a-z][A-Za-z0-9_]{0,254}$/.test(id))
        throw awsError(
          'ValidationError',
          `The value ${id} for parameter MetricDataQueries.member.${i + 1}.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores.`,
        );
      if (ids.has(id))
        throw awsError('ValidationError', `The values for parameter id in MetricDataQueries are not unique.`);
      ids.add(id);
      if (query.Expression !== undefined)
        throw new Error('the fake CloudWatch does not model metric math expressions');
      const stat = query.MetricStat;
      if (!stat?.Metric?.MetricName)
        throw awsError(
          'ValidationError',
          `Exactly one of MetricStat and Expression must be set in MetricDataQueries.member.${i + 1}.`,
        );
      const period = stat.Period ?? 0;
      // ALB metrics are standard resolution: a period is a whole number of minutes.
      if (period < 60 || period % 60 !== 0)
        throw awsError(
          'ValidationError',
          `The parameter MetricDataQueries.member.${i + 1}.MetricStat.Period must be a multiple of 60.`,
        );
      if (stat.Stat !== 'Sum') throw new Error(`the fake CloudWatch models only Sum, not ${stat.Stat}`);
    });

    this.advance();
    // CloudWatch rounds StartTime down to the minute (for data under 15 days old); a period whose
    // timestamp (its start) is before EndTime is returned whole.
    const start = Math.floor(startTime / minute) * minute;
    const ascending = input.ScanBy === 'TimestampAscending';
    const points = queries.map((query) => {
      const stat = query.MetricStat;
      const metric = stat?.Metric;
      const key = seriesKey(
        metric?.MetricName ?? '',
        Object.fromEntries((metric?.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
      );
      const period = (stat?.Period ?? 60) * 1000;
      const found: { at: number; value: number }[] = [];
      if (metric?.Namespace !== 'AWS/ApplicationELB') return found;
      for (let at = start; at < endTime; at += period) {
        let sum: number | undefined;
        for (let m = at; m < at + period; m += minute) {
          const value = this.published(key, m);
          if (value !== undefined) sum = (sum ?? 0) + value;
        }
        if (sum !== undefined) found.push({ at, value: sum });
      }
      return ascending ? found : found.reverse();
    });

    // Pages hold at most MaxDatapoints datapoints, counted over every query in order.
    const request = digest(
      JSON.stringify({ queries, startTime, endTime, ScanBy: input.ScanBy ?? 'TimestampDescending' }),
    );
    const total = points.reduce((n, p) => n + p.length, 0);
    let offset = 0;
    if (input.NextToken !== undefined) {
      const [at, of] = input.NextToken.split('.');
      offset = Number(at);
      if (of !== request || !Number.isInteger(offset) || offset <= 0 || offset >= total)
        throw awsError('InvalidNextToken', 'The service cannot return the next page: the token is invalid.');
    }
    const size = Math.min(input.MaxDatapoints ?? 100_800, this.maxDatapoints);
    const pageEnd = Math.min(total, offset + size);
    let before = 0;
    const results = queries.map((query, i): MetricDataResult => {
      const mine = points[i] ?? [];
      const from = Math.max(0, offset - before);
      const to = Math.max(0, Math.min(mine.length, pageEnd - before));
      before += mine.length;
      const page = mine.slice(from, Math.max(from, to));
      return {
        Id: query.Id,
        Label: query.Label ?? query.MetricStat?.Metric?.MetricName,
        Timestamps: page.map((p) => new Date(p.at)),
        Values: page.map((p) => p.value),
        StatusCode: to < mine.length ? 'PartialData' : 'Complete',
      };
    });
    return {
      MetricDataResults: results.filter((_, i) => queries[i]?.ReturnData !== false),
      ...(pageEnd < total ? { NextToken: `${pageEnd}.${request}` } : {}),
      Messages: [],
    };
  }

  describeAlarms(input: {
    AlarmNames?: string[];
    AlarmNamePrefix?: string;
    AlarmTypes?: string[];
    StateValue?: string;
    MaxRecords?: number;
    NextToken?: string;
  }): { MetricAlarms: MetricAlarm[]; CompositeAlarms: CompositeAlarm[]; NextToken?: string } {
    if ((input.AlarmNames?.length ?? 0) > 100)
      throw awsError('ValidationError', 'The collection AlarmNames must not have a size greater than 100.');
    if (input.AlarmNames && input.AlarmNamePrefix !== undefined)
      throw awsError('ValidationError', 'AlarmNames and AlarmNamePrefix cannot be used together.');
    const max = input.MaxRecords ?? 50;
    if (max < 1 || max > 100)
      throw awsError('ValidationError', 'The parameter MaxRecords must be between 1 and 100.');
    // Without AlarmTypes, AWS returns metric alarms only, even where composite alarms match.
    const types = new Set(input.AlarmTypes ?? ['MetricAlarm']);
    const matching = [...this.alarms.values()]
      .filter((a) => types.has(a.composite ? 'CompositeAlarm' : 'MetricAlarm'))
      .filter((a) => !input.AlarmNames || input.AlarmNames.includes(a.name))
      .filter((a) => input.AlarmNamePrefix === undefined || a.name.startsWith(input.AlarmNamePrefix))
      .filter((a) => !input.StateValue || a.state === input.StateValue)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const start = Number(input.NextToken ?? 0);
    if (!Number.isInteger(start) || start < 0 || (input.NextToken !== undefined && start >= matching.length))
      throw awsError('InvalidNextToken', 'The service cannot return the next page: the token is invalid.');
    const size = Math.min(this.account.pageSize, max);
    const page = matching.slice(start, start + size);
    const view = (a: FakeAlarm) => ({
      AlarmName: a.name,
      AlarmArn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${a.name}`,
      StateValue: a.state,
      StateReason: a.reason,
      StateUpdatedTimestamp: new Date(a.updatedAt),
      ActionsEnabled: true,
    });
    return {
      MetricAlarms: page.filter((a) => !a.composite).map((a): MetricAlarm => view(a)),
      CompositeAlarms: page
        .filter((a) => a.composite)
        .map((a): CompositeAlarm => ({ ...view(a), AlarmRule: 'ALARM("a-child-alarm")' })),
      ...(start + size < matching.length ? { NextToken: String(start + size) } : {}),
    };
  }
}
