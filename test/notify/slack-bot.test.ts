import { afterEach, describe, expect, it } from 'vitest';
import { SendError } from '../../src/notify/http.js';
import { notificationKinds } from '../../src/notify/notification.js';
import { replyFor, summaryMessage } from '../../src/notify/slack-blocks.js';
import { SlackBotNotifier } from '../../src/notify/slack-bot.js';
import { fakeSlack, refusingUrl, type FakeSlack } from '../helpers/fake-slack.js';
import { memoryMessages, notification, rollbackNotification, sendContext } from '../helpers/notification.js';

const token = 'xoxb-SECRET-token-123';
let slack: FakeSlack | undefined;

afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

function bot(apiUrl: string) {
  return new SlackBotNotifier(
    { name: 'slack #deploys', token, channel: '#deploys', apiUrl },
    { minBackoffMs: 10, maxBackoffMs: 50 },
  );
}

async function setup() {
  slack = await fakeSlack();
  return { slack, notifier: bot(slack.apiUrl), messages: memoryMessages() };
}

async function rejection(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SendError);
  expect((error as Error).message).not.toContain(token);
  expect((error as Error).message).not.toContain('SECRET');
  expect(String((error as Error).stack)).not.toContain(token);
  return error as SendError;
}

describe('SlackBotNotifier', () => {
  it('posts one message for a deployment at its first notification and keeps its channel and ts', async () => {
    const { slack, notifier, messages } = await setup();
    await notifier.send(notification('started'), sendContext(messages));
    const [post] = slack.calls('chat.postMessage');
    expect(slack.requests).toHaveLength(1);
    expect(post?.headers.authorization).toBe(`Bearer ${token}`);
    expect(post?.headers['content-type']).toContain('application/json');
    expect(post?.body).toEqual({ channel: '#deploys', ...summaryMessage(notification('started')) });
    expect(await messages.message('d-1', 'slack #deploys')).toEqual({
      channel: 'C-#deploys',
      ts: '1700000001.000100',
    });
  });

  it('updates the same message at each later notification and replies in its thread', async () => {
    const { slack, notifier, messages } = await setup();
    await notifier.send(notification('started'), sendContext(messages));
    await notifier.send(notification('step'), sendContext(messages));
    await notifier.send(notification('failed'), sendContext(messages));

    const updates = slack.calls('chat.update');
    expect(updates.map((u) => u.body)).toEqual([
      { channel: 'C-#deploys', ts: '1700000001.000100', ...summaryMessage(notification('step')) },
      { channel: 'C-#deploys', ts: '1700000001.000100', ...summaryMessage(notification('failed')) },
    ]);
    const replies = slack.calls('chat.postMessage').slice(1);
    expect(replies.map((r) => r.body)).toEqual([
      { channel: 'C-#deploys', thread_ts: '1700000001.000100', text: replyFor(notification('step')) },
      { channel: 'C-#deploys', thread_ts: '1700000001.000100', text: replyFor(notification('failed')) },
    ]);
    expect(slack.requests.map((r) => r.path)).toEqual([
      '/api/chat.postMessage',
      '/api/chat.update',
      '/api/chat.postMessage',
      '/api/chat.update',
      '/api/chat.postMessage',
    ]);
  });

  it('sends the summary and the reply of every kind', async () => {
    const { slack, notifier, messages } = await setup();
    const kinds = notificationKinds.filter((k) => k !== 'started');
    await notifier.send(notification('started'), sendContext(messages));
    for (const kind of kinds) await notifier.send(notification(kind), sendContext(messages));
    expect(slack.calls('chat.update').map((u) => u.body)).toEqual(
      kinds.map((kind) => ({
        channel: 'C-#deploys',
        ts: '1700000001.000100',
        ...summaryMessage(notification(kind)),
      })),
    );
    expect(slack.calls('chat.postMessage').map((r) => (r.body as { text: string }).text)).toEqual([
      summaryMessage(notification('started')).text,
      ...kinds.map((kind) => replyFor(notification(kind))),
    ]);
  });

  it('updates the message another process posted, found through the shared store', async () => {
    const { slack, messages } = await setup();
    await bot(slack.apiUrl).send(notification('started'), sendContext(messages));
    await bot(slack.apiUrl).send(notification('succeeded'), sendContext(messages));
    expect(slack.calls('chat.postMessage')).toHaveLength(2);
    expect(slack.calls('chat.update').map((u) => (u.body as { ts: string }).ts)).toEqual([
      '1700000001.000100',
    ]);
    expect((slack.calls('chat.postMessage')[1]?.body as { thread_ts: string }).thread_ts).toBe(
      '1700000001.000100',
    );
  });

  it('posts one message only when two notifications of a deployment are sent at once', async () => {
    const { slack, notifier, messages } = await setup();
    await Promise.all([
      notifier.send(notification('started'), sendContext(messages)),
      notifier.send(notification('step'), sendContext(messages)),
    ]);
    expect(slack.requests.map((r) => r.path)).toEqual([
      '/api/chat.postMessage',
      '/api/chat.update',
      '/api/chat.postMessage',
    ]);
  });

  it("gives a rollback its own message and tells the undone deployment's thread", async () => {
    const { slack, notifier, messages } = await setup();
    await notifier.send(notification('started'), sendContext(messages));
    await notifier.send(notification('succeeded'), sendContext(messages));
    const deployTs = '1700000001.000100';

    await notifier.send(rollbackNotification('started'), sendContext(messages));
    const rollbackRef = await messages.message('d-2', 'slack #deploys');
    expect(rollbackRef?.ts).not.toBe(deployTs);
    await notifier.send(rollbackNotification('step'), sendContext(messages));
    await notifier.send(rollbackNotification('succeeded'), sendContext(messages));

    const posts = slack.calls('chat.postMessage').map((r) => r.body as { thread_ts?: string; text: string });
    const inDeployThread = posts.filter((p) => p.thread_ts === deployTs).map((p) => p.text);
    expect(inDeployThread).toEqual([
      replyFor(notification('succeeded')),
      replyFor(rollbackNotification('started')),
      replyFor(rollbackNotification('succeeded')),
    ]);
    const inRollbackThread = posts.filter((p) => p.thread_ts === rollbackRef?.ts).map((p) => p.text);
    expect(inRollbackThread).toEqual([
      replyFor(rollbackNotification('step')),
      replyFor(rollbackNotification('succeeded')),
    ]);
    expect(
      slack.calls('chat.update').filter((u) => (u.body as { ts: string }).ts === rollbackRef?.ts),
    ).toHaveLength(2);
  });

  it('posts a rollback on its own when the undone deployment has no message', async () => {
    const { slack, notifier, messages } = await setup();
    await notifier.send(rollbackNotification('started'), sendContext(messages));
    expect(slack.requests).toHaveLength(1);
  });

  it('GIVEN a proxy that puts the request in ok:false error WHEN it answers THEN the error is not repeated', async () => {
    const { slack, notifier, messages } = await setup();
    slack.reply({ body: { ok: false, error: `bad token Bearer ${token}` } });
    const error = await rejection(notifier.send(notification('started'), sendContext(messages)));
    expect(error.permanent).toBe(true);
    expect(error.message).toBe('slack #deploys chat.postMessage failed: unknown_error');
  });

  it('rejects at once, permanently, on channel_not_found, without the token', async () => {
    const { slack, notifier, messages } = await setup();
    slack.reply({ body: { ok: false, error: 'channel_not_found' } });
    const started = Date.now();
    const error = await rejection(notifier.send(notification('started'), sendContext(messages)));
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.permanent).toBe(true);
    expect(error.message).toBe('slack #deploys chat.postMessage failed: channel_not_found');
    expect(slack.requests).toHaveLength(1);
    expect(messages.saved.size).toBe(0);
  });

  it('takes an unknown Web API error as permanent, and invalid_auth too', async () => {
    const { slack, notifier, messages } = await setup();
    slack.reply([
      { body: { ok: false, error: 'something_new' } },
      { body: { ok: false, error: 'invalid_auth' } },
    ]);
    expect((await rejection(notifier.send(notification('started'), sendContext(messages)))).permanent).toBe(
      true,
    );
    expect((await rejection(notifier.send(notification('started'), sendContext(messages)))).permanent).toBe(
      true,
    );
    expect(slack.requests).toHaveLength(2);
  });

  it('retries ratelimited and internal_error, and an HTTP 429 with Retry-After', async () => {
    const { slack, notifier, messages } = await setup();
    slack.reply([
      { body: { ok: false, error: 'ratelimited' } },
      { body: { ok: false, error: 'internal_error' } },
      { status: 429, headers: { 'retry-after': '0' }, body: { ok: false, error: 'ratelimited' } },
    ]);
    await notifier.send(notification('started'), sendContext(messages));
    expect(slack.requests).toHaveLength(4);
    expect(messages.saved.size).toBe(1);
  });

  it('gives up on ratelimited at the deadline, not permanently, naming the last error', async () => {
    const { slack, notifier, messages } = await setup();
    slack.reply(Array.from({ length: 100 }, () => ({ body: { ok: false, error: 'ratelimited' } })));
    const error = await rejection(notifier.send(notification('started'), sendContext(messages, 1500)));
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('ratelimited');
    expect(slack.requests.length).toBeGreaterThan(1);
  });

  it('posts a new message and keeps it when the old one was deleted (message_not_found)', async () => {
    const { slack, notifier, messages } = await setup();
    await notifier.send(notification('started'), sendContext(messages));
    slack.reply({ body: { ok: false, error: 'message_not_found' } }, '/chat.update');
    await notifier.send(notification('step'), sendContext(messages));
    expect(slack.requests.map((r) => r.path)).toEqual([
      '/api/chat.postMessage',
      '/api/chat.update',
      '/api/chat.postMessage',
    ]);
    expect(slack.requests[2]?.body).toEqual({ channel: '#deploys', ...summaryMessage(notification('step')) });
    expect((await messages.message('d-1', 'slack #deploys'))?.ts).toBe('1700000002.000100');
  });

  it('fails an update permanently on cant_update_message', async () => {
    const { slack, notifier, messages } = await setup();
    await notifier.send(notification('started'), sendContext(messages));
    slack.reply({ body: { ok: false, error: 'cant_update_message' } }, '/chat.update');
    const error = await rejection(notifier.send(notification('failed'), sendContext(messages)));
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('chat.update failed: cant_update_message');
  });

  it('keeps the token out of errors when Slack is unreachable or answers garbage', async () => {
    const down = bot(await refusingUrl());
    const unreachable = await rejection(
      down.send(notification('started'), sendContext(memoryMessages(), 300)),
    );
    expect(unreachable.permanent).toBe(false);

    const { slack, notifier, messages } = await setup();
    slack.reply([{ status: 401, body: `bad token ${'x'.repeat(10)}` }]);
    expect((await rejection(notifier.send(notification('started'), sendContext(messages)))).permanent).toBe(
      true,
    );
    slack.reply(Array.from({ length: 100 }, () => ({ body: '<html>proxy</html>' })));
    // Long enough that a busy machine's first answer arrives: the error must say what came back, not a timeout.
    const garbage = await rejection(notifier.send(notification('started'), sendContext(messages, 1500)));
    expect(garbage.permanent).toBe(false);
    expect(garbage.message).toContain('no JSON');
    expect(JSON.stringify(notifier)).not.toContain(token);
  });
});
