import { formatDuration } from '../duration.js';
import type { Notification, NotificationKind } from './notification.js';

/**
 * A notification as a Slack message: Block Kit blocks plus the `text` fallback that phones and
 * screen readers show alone. Whatever a notification holds (a 100 KB reason, hundreds of versions),
 * the message stays within Slack's limits: Slack refuses a whole message over any one of them
 * (`invalid_blocks`), and a refused outcome is worse than a shortened one.
 */

export const slackLimits = {
  blocks: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  text: 3000,
} as const;

export interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** One message for one notification (the incoming webhook's one message per event). */
export function eventMessage(notification: Notification): SlackMessage {
  return build(notification, 'event');
}

/** The bot's one message per deployment: where it stands now, updated in place at every notification. */
export function summaryMessage(notification: Notification): SlackMessage {
  return build(notification, 'summary');
}

/** A short thread reply under the bot's message: what just happened (a step, a failure, the outcome). */
export function replyFor(notification: Notification): string {
  const d = notification.deployment ?? ({} as Notification['deployment']);
  const lines = [`${emojiFor(notification.kind)} ${escapeMrkdwn(oneLine(replyHead(notification)))}`];
  const message = oneLine(str(notification.message));
  if (message) lines[0] += ` — ${escapeMrkdwn(message)}`;
  if (notification.kind === 'step' && d.weights) lines.push(weightsLine(d.weights));
  if (d.failure) lines.push(failureText(d.failure));
  // Only where someone may want to go back now: a step or a success does not call for it.
  if (d.rollbackCommand && (d.failure || notification.kind === 'failed' || notification.kind === 'aborted')) {
    lines.push(`Roll back: ${codeSpan(d.rollbackCommand)}`);
  }
  return fit(lines.join('\n'), slackLimits.text);
}

/** Slack reads `&`, `<` and `>` as markup (links, mentions): any text from elsewhere must escape them. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Shortens mrkdwn to `max` characters with an ellipsis, never cutting an escape (`&amp;`), a link
 * (`<url|run>`) or a surrogate pair in half: a half-escape shows as garbage, a half-link as markup.
 */
export function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && cut.indexOf(';', amp) < 0) cut = cut.slice(0, amp);
  const open = cut.lastIndexOf('<');
  if (open >= 0 && cut.indexOf('>', open) < 0) cut = cut.slice(0, open);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

type Mode = 'event' | 'summary';

function build(notification: Notification, mode: Mode): SlackMessage {
  const n = notification;
  const d = n.deployment ?? ({} as Notification['deployment']);
  // A step's headline names its phase, so the bot's updated header says where the deployment is now.
  const head = headline(n);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: plainFit(`${emojiFor(n.kind)} ${oneLine(head)}`), emoji: true },
    },
  ];

  const message = str(n.message);
  if (message) blocks.push(section(escapeMrkdwn(message)));

  const fields: string[] = [];
  const field = (label: string, value: string | undefined) => {
    if (value) fields.push(`*${label}*\n${value}`);
  };
  field('Artifact', code(d.artifact));
  field('Environment', code(d.environment));
  field('Version', code(d.version));
  field('Previous version', code(d.previousVersion));
  field('Phase', escapeMrkdwn(str(d.phase)));
  if (mode === 'summary') {
    field('Result', escapeMrkdwn(resultOf(n)));
    field('Duration', durationOf(n));
  }
  field('Actor', actorText(n));
  field('Commit', code(n.actor?.commit));
  if (mode === 'event') field('Deployment', code(d.id));
  // Slack refuses a section with neither text nor fields.
  if (fields.length > 0)
    blocks.push({
      type: 'section',
      fields: fields
        .slice(0, slackLimits.sectionFields)
        .map((text) => ({ type: 'mrkdwn', text: fit(text, slackLimits.fieldText) })),
    });

  if (d.weights && Object.keys(d.weights).length > 0)
    blocks.push(section(`*Traffic*\n${weightsList(d.weights)}`));
  if (d.failure) blocks.push(section(failureText(d.failure)));
  if (d.rollbackCommand) blocks.push(section(`*Roll back with*\n${codeSpan(d.rollbackCommand)}`));

  const context = [str(d.id) && `Deployment ${code(d.id)}`, str(d.target) && `target ${code(d.target)}`];
  context.push(escapeMrkdwn(str(n.time)));
  const contextText = context.filter(Boolean).join(' · ');
  // An empty text is refused too.
  if (contextText) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: fit(contextText, slackLimits.sectionText) }],
    });
  }

  return {
    text: fit(escapeMrkdwn(oneLine(message ? `${head} — ${message}` : head)), slackLimits.text),
    blocks: blocks.slice(0, slackLimits.blocks),
  };
}

/** `catalog v2 → prod`: what every headline starts with, so that the fallback alone says what and where. */
function subject(n: Notification, withVersion = true): string {
  const d = n.deployment ?? ({} as Notification['deployment']);
  const version = withVersion && str(d.version) ? ` ${str(d.version)}` : '';
  return `${str(d.artifact) || 'deployment'}${version} → ${str(d.environment) || '?'}`;
}

function headline(n: Notification): string {
  const d = n.deployment ?? ({} as Notification['deployment']);
  const rollback = d.kind === 'rollback';
  // A rollback's version is where it goes back to; a deploy that rolled back went back to its previous one.
  const backTo = str(rollback ? d.version : d.previousVersion);
  switch (n.kind) {
    case 'started':
      return `${subject(n)}: ${rollback ? 'rollback started' : 'started'}`;
    case 'succeeded':
      return `${subject(n)}: ${rollback ? 'rolled back' : 'live'}`;
    case 'failed':
      return `${subject(n)}: failed${backTo && !rollback ? `, back on ${backTo}` : ''}`;
    case 'rolled-back':
      return rollback || !backTo
        ? `${subject(n)}: rolled back`
        : `${subject(n, false)}: rolled back from ${str(d.version)} to ${backTo}`;
    case 'rollback-failed':
      return `${subject(n)}: rollback failed`;
    case 'aborted':
      return `${subject(n)}: aborted`;
    case 'step':
      return `${subject(n)}: ${str(d.phase) || 'step'}`;
    case 'test':
      return `${subject(n)}: test notification`;
    default:
      return `${subject(n)}: ${str(n.kind)}`;
  }
}

function replyHead(n: Notification): string {
  const d = n.deployment ?? ({} as Notification['deployment']);
  if (n.kind === 'step') return str(d.phase) || 'step';
  return headline(n);
}

function resultOf(n: Notification): string {
  switch (n.kind) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'rolled-back':
      return 'rolled back';
    case 'rollback-failed':
      return 'rollback failed';
    case 'aborted':
      return 'aborted';
    case 'test':
      return 'test';
    default:
      return 'in progress';
  }
}

function durationOf(n: Notification): string | undefined {
  const d = n.deployment ?? ({} as Notification['deployment']);
  let ms = d.durationMs;
  if (ms === undefined) ms = Date.parse(str(n.time)) - Date.parse(str(d.startedAt));
  return Number.isFinite(ms) && ms >= 0 ? formatDuration(ms) : undefined;
}

const emojis: Record<NotificationKind, string> = {
  started: ':rocket:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  'rolled-back': ':leftwards_arrow_with_hook:',
  'rollback-failed': ':rotating_light:',
  aborted: ':black_square_for_stop:',
  step: ':arrow_forward:',
  test: ':bell:',
};

function emojiFor(kind: NotificationKind): string {
  return emojis[kind] ?? ':information_source:';
}

function actorText(n: Notification): string | undefined {
  const name = str(n.actor?.name);
  if (!name) return undefined;
  const source = str(n.actor?.source);
  let text = escapeMrkdwn(source ? `${name} (${source})` : name);
  const run = str(n.actor?.runUrl);
  // Only a web address makes a link; `|` and `>` would end Slack's `<url|label>` early.
  if (/^https?:\/\//i.test(run)) text += ` · <${escapeMrkdwn(run.replace(/\|/g, '%7C'))}|run>`;
  return text;
}

function weightsList(weights: Record<string, number>): string {
  return fit(
    Object.entries(weights)
      .map(([version, share]) => `${code(version)} ${percent(share)}`)
      .join('\n'),
    slackLimits.sectionText - '*Traffic*\n'.length,
  );
}

function weightsLine(weights: Record<string, number>): string {
  return Object.entries(weights)
    .map(([version, share]) => `${code(version)} ${percent(share)}`)
    .join(', ');
}

function percent(share: unknown): string {
  return typeof share === 'number' && Number.isFinite(share) ? `${Math.round(share * 10) / 10}%` : '?%';
}

function failureText(failure: { code: string; reason: string }): string {
  return `*Failure* ${code(failure.code) ?? ''}\n${escapeMrkdwn(str(failure.reason))}`;
}

/** A value in a code span, so that `_` or `*` in a name does not turn into formatting. */
function code(value: string | undefined): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  return text.includes('`') ? escapeMrkdwn(text) : `\`${escapeMrkdwn(text)}\``;
}

/** The rollback command, exactly: a code block when it holds a backtick, which would end a span. */
function codeSpan(command: string): string {
  const text = escapeMrkdwn(str(command));
  return text.includes('`') ? `\`\`\`${text}\`\`\`` : `\`${text}\``;
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: fit(text, slackLimits.sectionText) } };
}

function plainFit(text: string): string {
  if (text.length <= slackLimits.headerText) return text;
  let cut = text.slice(0, slackLimits.headerText - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Notifications are read back from JSON written by another process: a field may be missing or not a string. */
function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}
