import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { defaults } from './defaults.js';
import { httpHeaders } from './notify.js';

/**
 * `checks:` of an environment: what watches green from its first share of traffic to the end of its bake,
 * beside the HTTP health checks. Every key is optional; a check is on when its key is there. A webhook
 * URL and header values are secrets: messages here name the key, never a value.
 */

const positiveDuration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({
          code: 'custom',
          message:
            ms === undefined
              ? `expected a duration such as 200ms, 10s or 1m, got ${JSON.stringify(value)}`
              : 'must be longer than 0',
        });
        return z.NEVER;
      }
      return ms;
    });

/** `1%`, `0.5%`, or a number of percent (`1` is 1%), from 0 to 100; undefined when it is none of these. */
export function parsePercent(value: unknown): number | undefined {
  let percent: number;
  if (typeof value === 'number') percent = value;
  else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
    if (!match) return undefined;
    percent = Number(match[1]);
  } else return undefined;
  return Number.isFinite(percent) && percent >= 0 && percent <= 100 ? percent : undefined;
}

const percentMessage =
  'expected a percentage from 0 to 100 such as 1% or 0.5% (a bare number is percent: 1 is 1%)';

// Transforms rather than a union, so that a mistake gets one plain message instead of zod's "Invalid input".
const optionalPercent = z
  .unknown()
  .optional()
  .transform((value, ctx): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = parsePercent(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: percentMessage });
      return z.NEVER;
    }
    return parsed;
  });

const percent = (fallback: string) =>
  optionalPercent.transform((value) => value ?? (parsePercent(fallback) as number));

const errorRate = z
  .object({
    /** Green's 5xx share of its requests, in percent, above which it fails. */
    max: percent(defaults.checks.errorRate.max),
    /** How far back each reading counts (never before green's first share of traffic). */
    window: positiveDuration(defaults.checks.errorRate.window),
    /** Fewer requests in the window say nothing: the reading is inconclusive. */
    minRequests: z.number().int().min(1).max(1_000_000_000).default(defaults.checks.errorRate.minRequests),
    /** Points green's rate may exceed blue's in the same window, when blue has enough requests. */
    maxOverBlue: optionalPercent,
  })
  .strict();

const alarmName = z
  .string({ error: 'expected a CloudWatch alarm name' })
  .min(1, 'expected a CloudWatch alarm name')
  .max(255, 'CloudWatch alarm names are at most 255 characters');

const alarms = z
  .array(alarmName, { error: 'expected a list of CloudWatch alarm names' })
  .min(1, 'expected at least one CloudWatch alarm name; leave `alarms` out for none')
  .max(10, 'at most 10 alarms, as CodeDeploy allows: combine more into a composite alarm')
  .superRefine((names, ctx) => {
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        ctx.addIssue({ code: 'custom', path: [i], message: `\`${name}\` is listed twice` });
    });
  });

const notOnLocal =
  'alarms are CloudWatch alarms, which only aws environments have; a local environment can use errorRate, webhook or probe';

const webhookUrl = z
  .string({
    error: 'expected the URL to POST each reading to (an http or https URL), usually "${CHECK_URL}"',
  })
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'expected the URL to POST each reading to (an http or https URL), usually "${CHECK_URL}"');

const webhook = z
  .object({
    url: webhookUrl,
    /** One POST's limit; it is never retried: the check posts again at its next interval. */
    timeout: positiveDuration(defaults.checks.webhook.timeout),
    headers: httpHeaders(new Set(['content-type', 'content-length'])).optional(),
  })
  .strict();

const probe = z
  .object({
    path: z
      .string({ error: 'expected a path such as /' })
      .startsWith('/', 'expected a path starting with /')
      .default(defaults.checks.probe.path),
    /** How often it sends a GET to the public address. */
    interval: positiveDuration(defaults.checks.probe.interval),
    /** Failed requests allowed in one step; one more fails the check. */
    maxFailures: z.number().int().min(0).max(1_000_000).default(defaults.checks.probe.maxFailures),
    timeout: positiveDuration(defaults.checks.probe.timeout),
  })
  .strict();

const common = {
  interval: positiveDuration(defaults.checks.interval),
  inconclusiveLimit: z.number().int().min(1).max(100).default(defaults.checks.inconclusiveLimit),
  errorRate: errorRate.optional(),
  webhook: webhook.optional(),
  probe: probe.optional(),
};

export const awsChecks = z
  .object({
    ...common,
    alarms: alarms.optional(),
    /** An alarm that cannot be read passes instead of failing the check. */
    ignoreAlarmReadErrors: z.boolean().default(false),
  })
  .strict();

export const localChecks = z
  .object({
    ...common,
    alarms: z.undefined({ error: notOnLocal }).optional(),
    ignoreAlarmReadErrors: z
      .undefined({ error: notOnLocal })
      .optional()
      .transform(() => false),
  })
  .strict();

export type ChecksConfig = z.output<typeof awsChecks>;
export type ErrorRateConfig = NonNullable<ChecksConfig['errorRate']>;
export type WebhookCheckConfig = NonNullable<ChecksConfig['webhook']>;
export type ProbeConfig = NonNullable<ChecksConfig['probe']>;
