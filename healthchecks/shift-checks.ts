import type { Clock } from '../src/clock.js';
import type { ChecksConfig } from '../src/config/checks.js';
import { UserInputError } from '../src/errors.js';
import type { Target } from '../src/providers/types.js';
import { alarmsCheck } from './alarms.js';
import { errorRateCheck } from './error-rate.js';
import { probeCheck } from './probe.js';
import type { ShiftCheck } from './shift-types.js';
import { webhookCheck, type WebhookDeployment } from './webhook.js';

/** What the checks of one deploy read from, and what the webhook is told. */
export interface ShiftCheckSources {
  target: Pick<Target, 'metrics' | 'alarms' | 'publicUrl'>;
  /** Green's and blue's fleet ids, as the target's metrics know them. */
  green: string;
  blue?: string | undefined;
  body: WebhookDeployment;
  /** The clock the error-rate window and every reading's time come from; the system clock by default. */
  clock?: Clock;
}

/**
 * The shift checks an environment's `checks:` asks for, ready for startShiftWatch; none when it asks
 * for none. Rejects with a UserInputError naming the key when the target cannot serve a check (an error
 * rate where it counts no responses, a probe where it has no public address): the controller asks
 * before anything changes.
 */
export async function shiftChecksFrom(
  config: ChecksConfig | undefined,
  sources: ShiftCheckSources,
): Promise<ShiftCheck[]> {
  if (config === undefined) return [];
  const { target, clock } = sources;
  const key = (name: string) => `environments.${sources.body.environment}.checks.${name}`;
  const unsupported = (name: string, what: string) =>
    new UserInputError(
      'CHECK_UNSUPPORTED',
      `\`${key(name)}\`: this environment's target ${what}`,
      `remove \`${name}\` from \`checks\` of environment \`${sources.body.environment}\``,
    );
  const checks: ShiftCheck[] = [];
  if (config.errorRate) {
    if (!target.metrics) throw unsupported('errorRate', 'does not count responses per fleet');
    checks.push(
      errorRateCheck({
        ...config.errorRate,
        metrics: target.metrics,
        green: sources.green,
        blue: sources.blue,
        interval: config.interval,
        clock,
      }),
    );
  }
  if (config.alarms) {
    if (!target.alarms) throw unsupported('alarms', 'has no alarms to read');
    checks.push(
      alarmsCheck({
        alarms: target.alarms,
        names: config.alarms,
        ignoreReadErrors: config.ignoreAlarmReadErrors,
        interval: config.interval,
        clock,
      }),
    );
  }
  if (config.webhook) {
    checks.push(webhookCheck({ ...config.webhook, interval: config.interval, body: sources.body, clock }));
  }
  if (config.probe) {
    const base = await target.publicUrl?.();
    if (!base) throw unsupported('probe', 'has no public address to send requests to');
    checks.push(
      probeCheck({
        url: `${base.replace(/\/+$/, '')}${config.probe.path}`,
        path: config.probe.path,
        every: config.probe.interval,
        timeout: config.probe.timeout,
        maxFailures: config.probe.maxFailures,
        interval: config.interval,
        clock,
      }),
    );
  }
  return checks;
}
