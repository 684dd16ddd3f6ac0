import { afterEach, describe, expect, it } from 'vitest';
import { SendError } from '../../src/notify/http.js';
import { notificationKinds } from '../../src/notify/notification.js';
import { eventMessage } from '../../src/notify/slack-blocks.js';
import { SlackWebhookNotifier } from '../../src/notify/slack-webhook.js';
import { fakeSlack, type FakeSlack } from '../helpers/fake-slack.js';
import { notification, sendContext } from '../helpers/notification.js';

const hookPath = '/services/T000/B000/SECRETxyz';
let slack: FakeSlack | undefined;

afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

async function setup() {
  slack = await fakeSlack();
  const notifier = new SlackWebhookNotifier(
    { name: 'slack webhook #1', webhookUrl: slack.url + hookPath },
    { minBackoffMs: 10, maxBackoffMs: 50 },
  );
  return { slack, notifier };
}

describe('SlackWebhookNotifier', () => {
  it('posts one message with text and blocks per notification, of every kind', async () => {
    const { slack, notifier } = await setup();
    for (const kind of notificationKinds) await notifier.send(notification(kind), sendContext());
    expect(slack.requests).toHaveLength(notificationKinds.length);
    notificationKinds.forEach((kind, i) => {
      const request = slack.requests[i];
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe(hookPath);
      expect(request?.headers['content-type']).toContain('application/json');
      expect(request?.body).toEqual(eventMessage(notification(kind)));
    });
  });

  it('fails at once, permanently, when Slack refuses the webhook, naming it and not its URL', async () => {
    const { slack, notifier } = await setup();
    for (const [status, body] of [
      [400, 'invalid_payload'],
      [404, 'channel_not_found'],
      [404, 'no_service'],
      [403, 'invalid_token'],
    ] as const) {
      slack.reply({ status, body });
      const error = await notifier.send(notification('succeeded'), sendContext()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SendError);
      expect((error as SendError).permanent).toBe(true);
      expect((error as Error).message).toContain('slack webhook #1');
      expect((error as Error).message).toContain(body);
      expect((error as Error).message).not.toContain('SECRETxyz');
    }
    expect(slack.requests).toHaveLength(4);
  });

  it('retries a 5xx and a 429 within the budget', async () => {
    const { slack, notifier } = await setup();
    slack.reply([
      { status: 503, body: 'unavailable' },
      { status: 429, headers: { 'retry-after': '0' }, body: '' },
    ]);
    await notifier.send(notification('failed'), sendContext());
    expect(slack.requests).toHaveLength(3);
  });

  it('rejects, not permanently and without the URL, when Slack is unreachable until the deadline', async () => {
    const { slack, notifier } = await setup();
    await slack.close();
    const error = await notifier
      .send(notification('failed'), sendContext(undefined, 300))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).permanent).toBe(false);
    expect((error as Error).message).not.toContain('SECRETxyz');
    expect((error as Error).message).not.toContain('127.0.0.1');
  });
});
