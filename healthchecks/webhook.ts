import type { Clock } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import { formatDurationSetting } from '../src/duration.js';
import { quotable } from '../src/notify/http.js';
import type { Judgement, ShiftCheck } from './shift-types.js';

/** What one POST came to: an answer, or the error code of a request that got none. */
export type WebhookAnswer = { status: number; body: string } | { error: string };

/**
 * A 2xx passes; any other answer, a timeout or a refused connection fails. The detail names the status
 * and, from the body, only an error code (`deploy_frozen`); never the URL, which is a secret.
 */
export function assessWebhook(answer: WebhookAnswer, timeout: number): Judgement {
  if ('error' in answer) {
    const detail =
      answer.error === 'ETIMEDOUT'
        ? `webhook: no answer within ${formatDurationSetting(timeout)} (ETIMEDOUT)`
        : `webhook: request failed: ${answer.error}`;
    return { outcome: 'fail', detail };
  }
  const said = quotable(answer.body);
  const detail = `webhook answered ${answer.status}${said ? ` ${said}` : ''}`;
  return answer.status >= 200 && answer.status < 300
    ? { outcome: 'pass', detail: `webhook answered ${answer.status}`, value: answer.status }
    : { outcome: 'fail', detail, value: answer.status };
}

/** What the webhook is told about the deploy, beside where it is in the shift. */
export interface WebhookDeployment {
  artifact: string;
  environment: string;
  version: string;
  deployment: string;
}

export interface WebhookCheckOptions {
  url: string;
  headers?: Record<string, string> | undefined;
  timeout: number;
  interval: number;
  body: WebhookDeployment;
  clock?: Clock;
}

/**
 * POSTs `{artifact, environment, version, deployment, phase, weight}` once a read, with no retry: the
 * check posts again at its next interval, and a receiver that cannot answer in time has failed it.
 */
export function webhookCheck(options: WebhookCheckOptions): ShiftCheck {
  const clock = options.clock ?? systemClock;
  return {
    name: 'webhook',
    interval: options.interval,
    async read(phase, signal) {
      const body = JSON.stringify({ ...options.body, phase: phase.phase, weight: phase.weight });
      const answer = await post(options.url, body, options, signal);
      return { check: 'webhook', ...assessWebhook(answer, options.timeout), at: clock.now() };
    },
  };
}

async function post(
  url: string,
  body: string,
  options: WebhookCheckOptions,
  signal: AbortSignal,
): Promise<WebhookAnswer> {
  // Loaded by the first check, not by every command that reads the config.
  const { default: got, RequestError } = await import('got');
  try {
    const response = await got.post(url, {
      body,
      headers: { ...options.headers, 'content-type': 'application/json; charset=utf-8' },
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      timeout: { request: options.timeout },
      signal,
    });
    return { status: response.statusCode, body: response.body };
  } catch (error) {
    // Only the code: got's messages repeat the URL (an invalid one whole, a refused one's host and port).
    const code = error instanceof RequestError ? error.code : (error as { code?: unknown }).code;
    return { error: typeof code === 'string' && code !== '' ? code : 'an error without a code' };
  }
}
