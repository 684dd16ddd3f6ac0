import { describe, expect, it } from 'vitest';
import { notificationKinds, type Notification } from '../../src/notify/notification.js';
import {
  escapeMrkdwn,
  eventMessage,
  fit,
  replyFor,
  slackLimits,
  summaryMessage,
  type SlackBlock,
  type SlackMessage,
} from '../../src/notify/slack-blocks.js';
import { notification, rollbackNotification } from '../helpers/notification.js';

function header(message: SlackMessage): string {
  const block = message.blocks.find((b) => b.type === 'header');
  return block?.type === 'header' ? block.text.text : '';
}

/** Every mrkdwn and plain_text string in the blocks, with the limit Slack puts on it. */
function texts(blocks: SlackBlock[]): { text: string; max: number }[] {
  return blocks.flatMap((b): { text: string; max: number }[] => {
    if (b.type === 'header') return [{ text: b.text.text, max: slackLimits.headerText }];
    if (b.type === 'section')
      return [
        ...(b.text ? [{ text: b.text.text, max: slackLimits.sectionText }] : []),
        ...(b.fields ?? []).map((f) => ({ text: f.text, max: slackLimits.fieldText })),
      ];
    if (b.type === 'context') return b.elements.map((e) => ({ text: e.text, max: slackLimits.sectionText }));
    return [];
  });
}

function withinLimits(message: SlackMessage) {
  expect(message.blocks.length).toBeLessThanOrEqual(slackLimits.blocks);
  expect(message.text.length).toBeLessThanOrEqual(slackLimits.text);
  for (const { text, max } of texts(message.blocks)) {
    expect(text.length).toBeLessThanOrEqual(max);
    expect(text.length).toBeGreaterThan(0);
  }
  for (const b of message.blocks) {
    if (b.type === 'section') {
      expect((b.fields ?? []).length).toBeLessThanOrEqual(slackLimits.sectionFields);
      expect(Boolean(b.text) || (b.fields ?? []).length > 0).toBe(true);
    }
  }
}

describe('Slack blocks', () => {
  it.each(notificationKinds)(
    'renders %s with a header and a one-line fallback naming artifact, environment and version',
    (kind) => {
      for (const render of [eventMessage, summaryMessage]) {
        const message = render(notification(kind));
        for (const part of ['catalog', 'prod', 'v2']) {
          expect(header(message)).toContain(part);
          expect(message.text).toContain(part);
        }
        expect(message.text).not.toContain('\n');
        withinLimits(message);
      }
    },
  );

  it('gives each kind its own header', () => {
    const headers = notificationKinds.map((kind) => header(eventMessage(notification(kind))));
    expect(new Set(headers).size).toBe(notificationKinds.length);
    expect(header(eventMessage(notification('succeeded')))).toContain('catalog v2 → prod: live');
    expect(header(eventMessage(notification('failed')))).toContain('failed, back on v1');
    expect(eventMessage(notification('failed')).text).toContain('failed');
  });

  it('shows the actor with a link to the run, the commit, weights, failure and the rollback command', () => {
    const message = eventMessage(notification('failed'));
    const all = texts(message.blocks)
      .map((t) => t.text)
      .join('\n');
    expect(all).toContain('alice (github) · <https://github.com/acme/catalog/actions/runs/42|run>');
    expect(all).toContain('`3f9a1c2d4e5f`');
    expect(all).toContain('`v1` 100%');
    expect(all).toContain('`HEALTH_CHECK_FAILED`');
    expect(all).toContain('GET /health answered 503');
    expect(all).toContain('traffic is back on v1');
    expect(all).toContain('`cutover rollback catalog --env prod`');
    expect(all).toContain('*Previous version*\n`v1`');
  });

  it('summarises the current state: phase, weights, result and duration', () => {
    const step = summaryMessage(notification('step'));
    const stepText = texts(step.blocks)
      .map((t) => t.text)
      .join('\n');
    expect(header(step)).toContain('shifting');
    expect(stepText).toContain('*Result*\nin progress');
    expect(stepText).toContain('*Duration*\n2m0s');
    expect(stepText).toContain('`v2` 10%\n`v1` 90%');
    const done = texts(summaryMessage(notification('succeeded')).blocks)
      .map((t) => t.text)
      .join('\n');
    expect(done).toContain('*Result*\nsucceeded');
  });

  it('names where a rollback went back to', () => {
    const message = eventMessage(rollbackNotification('succeeded'));
    expect(header(message)).toContain('catalog v1 → prod: rolled back');
    expect(header(eventMessage(notification('rolled-back')))).toContain('rolled back from v2 to v1');
  });

  it('stays within Slack limits and never throws, whatever the input length', () => {
    const huge = 'x&<'.repeat(34_000);
    const weights = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`v${i}-${'z'.repeat(20)}`, 0.5]),
    );
    const base = notification('failed');
    const n: Notification = {
      ...base,
      message: huge,
      deployment: {
        ...base.deployment,
        artifact: 'a'.repeat(5000),
        environment: 'e'.repeat(5000),
        version: 'v'.repeat(5000),
        weights,
        failure: { code: 'C'.repeat(10_000), reason: huge },
        rollbackCommand: `cutover rollback ${huge}`,
      },
      actor: { ...base.actor, name: huge, runUrl: `https://ci/${huge}` },
    };
    for (const render of [eventMessage, summaryMessage]) {
      const message = render(n);
      withinLimits(message);
      // An escape is never cut in half.
      for (const { text } of texts(message.blocks)) expect(text).not.toMatch(/&[a-z]{0,3}…/);
    }
    expect(replyFor(n).length).toBeLessThanOrEqual(slackLimits.text);
  });

  it('never throws on fields missing from a notification read back from JSON', () => {
    const n = {
      ...notification('step'),
      message: '',
      time: '',
      deployment: {},
      actor: {},
    } as unknown as Notification;
    withinLimits(eventMessage(n));
    withinLimits(summaryMessage(n));
    expect(typeof replyFor(n)).toBe('string');
  });

  it('escapes &, < and > everywhere mrkdwn is read', () => {
    const base = notification('failed');
    const n: Notification = {
      ...base,
      message: 'a <!channel> & b > c',
      deployment: {
        ...base.deployment,
        artifact: 'cat<a>log',
        failure: { code: 'X', reason: '<@U123> & co' },
      },
    };
    const message = eventMessage(n);
    const all = texts(message.blocks.filter((b) => b.type !== 'header'))
      .map((t) => t.text)
      .join('\n');
    expect(all).toContain('a &lt;!channel&gt; &amp; b &gt; c');
    expect(all).toContain('`cat&lt;a&gt;log`');
    expect(all).toContain('&lt;@U123&gt; &amp; co');
    expect(message.text).toContain('&lt;!channel&gt;');
    expect(message.text).not.toContain('<!channel>');
    expect(replyFor(n)).toContain('&lt;@U123&gt;');
    expect(escapeMrkdwn('<&>')).toBe('&lt;&amp;&gt;');
  });

  it('fit shortens with an ellipsis without cutting an escape or a link', () => {
    expect(fit('abc', 3)).toBe('abc');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('ab &amp; cd', 6)).toBe('ab …');
    expect(fit('see <https://x/y|run> now', 12)).toBe('see …');
  });

  it('writes a short thread reply for a step and a failure', () => {
    expect(replyFor(notification('step'))).toBe(
      ':arrow_forward: shifting — shifting 10% of traffic to v2\n`v2` 10%, `v1` 90%',
    );
    const failed = replyFor(notification('failed'));
    expect(failed).toContain('catalog v2 → prod: failed, back on v1');
    expect(failed).toContain('`HEALTH_CHECK_FAILED`');
    expect(failed).toContain('Roll back: `cutover rollback catalog --env prod`');
    expect(replyFor(notification('succeeded'))).not.toContain('Roll back');
  });
});
