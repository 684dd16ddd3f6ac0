import type { NotifierConfig } from '../config/notify.js';
import { defaultKinds, type NotificationKind } from './notification.js';
import type { NotifierEntry } from './hub.js';
import { SlackBotNotifier } from './slack-bot.js';
import { SlackWebhookNotifier } from './slack-webhook.js';
import { WebhookNotifier } from './webhook.js';

/**
 * The notifiers an environment's `notify:` list describes, each named by what it is and where (never by
 * a URL or token). One whose URL or token is empty is off: `${SLACK_WEBHOOK_URL:-}` until it is set.
 */
export function notifiersFor(list: readonly NotifierConfig[]): NotifierEntry[] {
  return list.flatMap((config, index): NotifierEntry[] => {
    const kinds =
      config.events === 'all' ? ('all' as const) : new Set<NotificationKind>(config.events ?? defaultKinds);
    const n = index + 1;
    if (config.webhook) {
      const { url, headers, secret } = config.webhook;
      if (!url) return [];
      return [
        {
          kinds,
          notifier: new WebhookNotifier({
            name: `webhook #${n} (${new URL(url).host})`,
            url,
            ...(headers ? { headers } : {}),
            ...(secret ? { secret } : {}),
          }),
        },
      ];
    }
    const slack = config.slack;
    if (!slack) return [];
    if (slack.webhookUrl !== undefined) {
      if (!slack.webhookUrl) return [];
      return [
        {
          kinds,
          notifier: new SlackWebhookNotifier({ name: `slack webhook #${n}`, webhookUrl: slack.webhookUrl }),
        },
      ];
    }
    if (!slack.token || !slack.channel) return [];
    return [
      {
        kinds,
        notifier: new SlackBotNotifier({
          name: `slack ${slack.channel}`,
          token: slack.token,
          channel: slack.channel,
          apiUrl: slack.apiUrl,
        }),
      },
    ];
  });
}
