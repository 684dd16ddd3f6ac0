import { z } from 'zod';
import { notificationKinds, type NotificationKind } from '../notify/notification.js';

/**
 * The `notify:` list of an environment. Values are usually `${VARIABLES}`: messages here name the key and
 * never repeat a value, since a value may be a secret and config errors are printed.
 */

const httpUrl = (what: string) =>
  z.string().refine((value) => {
    if (value === '') return true; // An empty value turns the notifier off (`${SLACK_WEBHOOK_URL:-}`).
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, `expected ${what} (an http or https URL), or an empty value to turn this notifier off`);

const eventNames: readonly string[] = notificationKinds.filter((k) => k !== 'test');

// A transform rather than a union, so the error lists the names instead of saying "Invalid input".
const kinds = z.unknown().transform((value, ctx): 'all' | NotificationKind[] => {
  if (value === 'all') return 'all';
  if (Array.isArray(value) && value.length > 0 && value.every((v) => eventNames.includes(v as string))) {
    return value as NotificationKind[];
  }
  ctx.addIssue({
    code: 'custom',
    message: `expected \`all\` or a list of event names: ${eventNames.join(', ')}`,
  });
  return z.NEVER;
});

// One object for both modes rather than a union: zod reports a union's failure as one vague line, and
// a person who mistyped an event name needs to be told which key is wrong.
const slack = z
  .object({
    /** Incoming webhook mode. */
    webhookUrl: httpUrl('a Slack incoming webhook URL').optional(),
    /** Bot mode: a token (xoxb-…) with chat:write, and the channel it posts in. */
    token: z
      .string({ error: 'expected a Slack bot token (xoxb-…), usually "${SLACK_BOT_TOKEN}"' })
      .optional(),
    channel: z.string().min(1, 'expected a channel such as #deploys or a channel id').optional(),
    apiUrl: httpUrl('the Slack Web API URL')
      .refine(
        (url) => url !== '',
        'expected the Slack Web API URL; leave `apiUrl` out for https://slack.com/api',
      )
      .default('https://slack.com/api'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.webhookUrl !== undefined && s.token !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'either `webhookUrl` or `token` and `channel`, not both' });
    } else if (s.webhookUrl === undefined && s.token === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected `webhookUrl`, or `token` and `channel`' });
    } else if (s.token !== undefined && s.channel === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['channel'],
        message: 'a bot token needs the channel it posts in',
      });
    }
  });

const headerName = /^[A-Za-z0-9-]+$/;

/**
 * Extra headers for a POST cutover makes, names checked and `reserved` (lower case) refused. Values are
 * often secrets (`Authorization`), so messages name the header, never its value.
 */
export const httpHeaders = (reserved: ReadonlySet<string>) =>
  z.record(z.string(), z.string({ error: 'expected a string' })).superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      const problem = !headerName.test(name)
        ? 'header names are letters, digits and dashes'
        : reserved.has(name.toLowerCase())
          ? 'cutover sets this header itself'
          : /[^\t\x20-\x7e]/.test(value)
            ? 'the value has a character other than printable ASCII (a line break, a NUL, an accent), which an HTTP header cannot carry'
            : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  });

const reservedHeaders = new Set([
  'content-type',
  'content-length',
  'x-cutover-signature',
  'x-cutover-event',
  'x-cutover-delivery',
]);

const webhook = z
  .object({
    url: httpUrl('the URL to POST notifications to'),
    headers: httpHeaders(reservedHeaders).optional(),
    secret: z.string().optional(),
  })
  .strict();

export const notifierConfig = z
  .object({ slack: slack.optional(), webhook: webhook.optional(), events: kinds.optional() })
  .strict()
  .superRefine((n, ctx) => {
    if ((n.slack === undefined) === (n.webhook === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'expected `slack: { webhookUrl }`, `slack: { token, channel }` or `webhook: { url }`, with optional `events`',
      });
    }
  });

export const notifyList = z.array(notifierConfig).default([]);

export type NotifierConfig = z.output<typeof notifierConfig>;
