import { isErrorCode, postJson, SendError, type HttpAnswer, type PostOptions } from './http.js';
import type { MessageRef, Notification, Notifier, SendContext } from './notification.js';
import { replyFor, summaryMessage, type SlackBlock } from './slack-blocks.js';

/**
 * Slack through a bot token and the Web API: one message per deployment, updated in place as it moves
 * on, with a thread reply for each step, failure and outcome, so that a channel shows one line per
 * deployment rather than ten. The message's `{channel, ts}` lives in the deployment's MessageStore, not
 * in this object: the runner that finishes a deployment is often not the one that started it.
 */

export interface SlackBotConfig {
  /** Names it in warnings (`slack #deploys`); never the token. */
  name: string;
  token: string;
  /** A channel id or name; Slack's answer gives the id, which is what is kept. */
  channel: string;
  /** `https://slack.com/api` unless a test points it elsewhere. */
  apiUrl?: string;
}

/** Backoff and Retry-After bounds passed to postJson; tests shorten them. */
type RetryTuning = Pick<PostOptions, 'minBackoffMs' | 'maxBackoffMs' | 'retryAfterCapMs'>;

/** Web API errors that the same request cannot get past: a bad token, a missing channel, a refused payload. */
export const permanentSlackErrors: readonly string[] = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
  'invalid_payload',
  'msg_too_long',
  'invalid_arguments',
  'message_not_found',
  'cant_update_message',
  'restricted_action',
];

/** Web API errors that pass; any error in neither list is taken as permanent, as retrying it blind helps no one. */
export const retriedSlackErrors: readonly string[] = [
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
];

/** A Web API `ok: false`, keeping Slack's error code so that `message_not_found` can be told apart. */
export class SlackApiError extends SendError {
  constructor(
    message: string,
    readonly slackError: string,
  ) {
    super(message, !retriedSlackErrors.includes(slackError));
    this.name = 'SlackApiError';
  }
}

interface WebApiAnswer {
  ok?: boolean;
  error?: string;
  channel?: string;
  ts?: string;
}

export class SlackBotNotifier implements Notifier {
  readonly name: string;
  // Private so that logging or inspecting the notifier cannot show the token.
  readonly #token: string;
  readonly #channel: string;
  readonly #apiUrl: string;
  readonly #retry: RetryTuning;
  /** Sends of one deployment in this process, one after the other: two at once would both post a message. */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(config: SlackBotConfig, retry: RetryTuning = {}) {
    this.name = config.name;
    this.#token = config.token;
    this.#channel = config.channel;
    this.#apiUrl = (config.apiUrl ?? 'https://slack.com/api').replace(/\/+$/, '');
    this.#retry = retry;
  }

  send(notification: Notification, context: SendContext): Promise<void> {
    // Read back from JSON, a notification may lack its deployment: that must reject, not throw here.
    const key = notification.deployment?.id ?? '';
    const before = this.#queues.get(key) ?? Promise.resolve();
    const run = before.then(() => this.#send(notification, context));
    const tail = run.catch(() => undefined);
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }

  async #send(notification: Notification, context: SendContext): Promise<void> {
    const deployment = notification.deployment;
    const summary = summaryMessage(notification);
    const existing = await context.messages.message(deployment.id, this.name);
    if (!existing) {
      await this.#postSummary(deployment.id, summary, context);
    } else {
      const reposted = await this.#update(existing, summary, context).then(
        () => false,
        async (error: unknown) => {
          // Deleted by someone in the channel: the deployment still deserves a message.
          if (!(error instanceof SlackApiError && error.slackError === 'message_not_found')) throw error;
          await this.#postSummary(deployment.id, summary, context);
          return true;
        },
      );
      if (!reposted) await this.#reply(existing, notification, context);
    }

    // A rollback tells the thread of what it undid too, where people follow that deployment; its steps stay
    // in its own thread.
    if (deployment.kind === 'rollback' && deployment.undid && notification.kind !== 'step') {
      const undone = await context.messages.message(deployment.undid, this.name);
      if (undone) await this.#reply(undone, notification, context);
    }
  }

  async #postSummary(
    deployment: string,
    summary: { text: string; blocks: SlackBlock[] },
    context: SendContext,
  ): Promise<void> {
    const answer = await this.#call('chat.postMessage', { channel: this.#channel, ...summary }, context);
    if (!answer.channel || !answer.ts) {
      throw new SendError(
        `${this.name}: chat.postMessage answered without the message's channel and ts`,
        true,
      );
    }
    await context.messages.saveMessage(deployment, this.name, { channel: answer.channel, ts: answer.ts });
  }

  async #update(
    ref: MessageRef,
    summary: { text: string; blocks: SlackBlock[] },
    context: SendContext,
  ): Promise<void> {
    await this.#call('chat.update', { channel: ref.channel, ts: ref.ts, ...summary }, context);
  }

  async #reply(ref: MessageRef, notification: Notification, context: SendContext): Promise<void> {
    await this.#call(
      'chat.postMessage',
      { channel: ref.channel, thread_ts: ref.ts, text: replyFor(notification) },
      context,
    );
  }

  async #call(method: string, body: object, context: SendContext): Promise<WebApiAnswer> {
    const what = `${this.name} ${method}`;
    const answer = await postJson(`${this.#apiUrl}/${method}`, JSON.stringify(body), {
      ...this.#retry,
      what,
      headers: { authorization: `Bearer ${this.#token}` },
      deadline: context.deadline,
      signal: context.signal,
      check: (answer) => {
        readAnswer(what, answer);
      },
    });
    return readAnswer(what, answer);
  }
}

/** Slack's Web API answers 200 for its own failures too: `ok: false` with an error code. */
function readAnswer(what: string, answer: HttpAnswer): WebApiAnswer {
  let parsed: WebApiAnswer;
  try {
    parsed = JSON.parse(answer.body) as WebApiAnswer;
  } catch {
    // A proxy's page or a cut answer, not Slack's word: worth another try.
    throw new Error(`${what}: answered ${answer.status} with no JSON`);
  }
  if (parsed === null || typeof parsed !== 'object')
    throw new Error(`${what}: answered ${answer.status} with no JSON`);
  if (parsed.ok === true) return parsed;
  // Only a code is repeated: a proxy in front of Slack may put the request, token and all, in `error`.
  const error =
    typeof parsed.error === 'string' && isErrorCode(parsed.error) ? parsed.error : 'unknown_error';
  const slackError = new SlackApiError(`${what} failed: ${error}`, error);
  // Retried ones are plain errors to postJson, which retries those; the last one ends its message.
  if (!slackError.permanent) throw new Error(slackError.message);
  throw slackError;
}
