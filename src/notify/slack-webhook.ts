import { postJson, type PostOptions } from './http.js';
import type { Notification, Notifier, SendContext } from './notification.js';
import { eventMessage } from './slack-blocks.js';

/**
 * Slack through an incoming webhook: one message per notification. A webhook cannot edit what it posted,
 * so there is no per-deployment message here (that is the bot's). Slack answers 200 `ok`; its refusals
 * (`invalid_payload`, `channel_not_found`, `no_service`, `invalid_token`) are 4xx, permanent in postJson.
 */

export interface SlackWebhookConfig {
  /** Names it in warnings (`slack webhook #1`); the URL is the secret and never shown. */
  name: string;
  webhookUrl: string;
}

/** Backoff and Retry-After bounds passed to postJson; tests shorten them. */
type RetryTuning = Pick<PostOptions, 'minBackoffMs' | 'maxBackoffMs' | 'retryAfterCapMs'>;

export class SlackWebhookNotifier implements Notifier {
  readonly name: string;
  // Private so that logging or inspecting the notifier cannot show the URL.
  readonly #webhookUrl: string;
  readonly #retry: RetryTuning;

  constructor(config: SlackWebhookConfig, retry: RetryTuning = {}) {
    this.name = config.name;
    this.#webhookUrl = config.webhookUrl;
    this.#retry = retry;
  }

  async send(notification: Notification, context: SendContext): Promise<void> {
    const { text, blocks } = eventMessage(notification);
    await postJson(this.#webhookUrl, JSON.stringify({ text, blocks }), {
      ...this.#retry,
      what: this.name,
      deadline: context.deadline,
      signal: context.signal,
    });
  }
}
