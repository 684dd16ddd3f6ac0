import { z } from 'zod';
import { notificationKinds } from '../notify/notification.js';

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

const kinds = z.union([
  z.literal('all'),
  z
    .array(
      z.enum(notificationKinds.filter((k) => k !== 'test') as [string, ...string[]], {
        error: `expected event names: ${notificationKinds.filter((k) => k !== 'test').join(', ')}`,
      }),
    )
    .min(1),
]);

const slackWebhook = z.object({ webhookUrl: httpUrl('a Slack incoming webhook URL') }).strict();

const slackBot = z
  .object({
    token: z.string({ error: 'expected a Slack bot token (xoxb-…), usually "${SLACK_BOT_TOKEN}"' }),
    channel: z.string().min(1, 'expected a channel such as #deploys or a channel id'),
    apiUrl: httpUrl('the Slack Web API URL').default('https://slack.com/api'),
  })
  .strict();

const headerName = /^[A-Za-z0-9-]+$/;
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
    headers: z
      .record(z.string(), z.string({ error: 'expected a string' }))
      .superRefine((headers, ctx) => {
        for (const [name, value] of Object.entries(headers)) {
          const problem = !headerName.test(name)
            ? 'header names are letters, digits and dashes'
            : reservedHeaders.has(name.toLowerCase())
              ? 'cutover sets this header itself'
              : /[\r\n\0]/.test(value)
                ? 'the value has a line break or NUL, which no HTTP request can carry'
                : undefined;
          if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
        }
      })
      .optional(),
    secret: z.string().optional(),
  })
  .strict();

export const notifierConfig = z.union(
  [
    z.object({ slack: z.union([slackWebhook, slackBot]), events: kinds.optional() }).strict(),
    z.object({ webhook, events: kinds.optional() }).strict(),
  ],
  {
    error:
      'expected `slack: { webhookUrl }`, `slack: { token, channel }` or `webhook: { url }`, with optional `events`',
  },
);

export const notifyList = z.array(notifierConfig).default([]);

export type NotifierConfig = z.output<typeof notifierConfig>;
