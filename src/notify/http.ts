import pRetry, { AbortError } from 'p-retry';

/**
 * One POST to a notification endpoint, retried within a deadline: a 429 waits for its Retry-After
 * (capped), a 5xx or a network error backs off, any other 4xx is permanent. Errors name the destination
 * by `what`, never by its URL: a Slack webhook's URL is its secret.
 */

export interface HttpAnswer {
  status: number;
  body: string;
}

export class SendError extends Error {
  constructor(
    message: string,
    /** Sending again cannot help (a bad token, an unknown channel, a payload refused). */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

export interface PostOptions {
  /** Names the destination in errors: `Slack webhook`, `webhook example.com`. */
  what: string;
  headers?: Record<string, string>;
  deadline: number;
  signal: AbortSignal;
  /**
   * Reads a 2xx answer, throwing a SendError when it is a failure (Slack's Web API answers 200 with
   * `ok: false`); returns what the caller needs from it.
   */
  check?: (answer: HttpAnswer) => void;
  /** The longest Retry-After honoured; a longer one fails the send at once. */
  retryAfterCapMs?: number;
  /** First backoff after a 5xx or a network error, doubling up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

const defaultRetryAfterCapMs = 30_000;
const attemptTimeoutMs = 10_000;

export async function postJson(url: string, body: string, options: PostOptions): Promise<HttpAnswer> {
  // got (and its HTTP/2 and cache modules) is loaded by the first message sent, not by every command.
  const { default: got, RequestError } = await import('got');
  const now = options.now ?? Date.now;
  const left = () => options.deadline - now();
  const cap = options.retryAfterCapMs ?? defaultRetryAfterCapMs;
  const notTried = 'it was not tried';
  let last = notTried;
  const short = quotable;

  const attempt = async (): Promise<HttpAnswer> => {
    if (left() <= 0) throw new AbortError(giveUp(options.what, last));
    let answer: HttpAnswer;
    try {
      const response = await got.post(url, {
        body,
        headers: { 'content-type': 'application/json; charset=utf-8', ...options.headers },
        throwHttpErrors: false,
        followRedirect: false,
        retry: { limit: 0 },
        timeout: { request: Math.max(1, Math.min(left(), attemptTimeoutMs)) },
        signal: options.signal,
      });
      answer = { status: response.statusCode, body: response.body };
      if (response.statusCode === 429) {
        const waitMs = retryAfterMs(response.headers['retry-after']);
        last = `rate limited (429, Retry-After ${Math.round(waitMs / 1000)} s)`;
        if (waitMs > cap || waitMs >= left()) throw new AbortError(giveUp(options.what, last));
        await sleep(waitMs, options.signal);
        throw new RateLimited(last, waitMs);
      }
    } catch (error) {
      if (error instanceof AbortError) throw error;
      if (options.signal.aborted) throw new AbortError(giveUp(options.what, last));
      if (error instanceof RequestError) {
        // An attempt cut short by the deadline says nothing of the server: the answer before it does.
        const cutByDeadline = error.code === 'ETIMEDOUT' && left() <= 0 && last !== notTried;
        if (!cutByDeadline) last = `${error.code}${error.code === 'ETIMEDOUT' ? ' (no answer)' : ''}`;
        throw new Error(last);
      }
      throw error;
    }
    if (answer.status >= 500) {
      last = `${answer.status} ${short(answer.body)}`.trim();
      throw new Error(last);
    }
    if (answer.status >= 300) {
      throw new AbortError(
        new SendError(
          `${options.what} refused the message: ${answer.status} ${short(answer.body)}`.trim(),
          true,
        ),
      );
    }
    try {
      options.check?.(answer);
    } catch (error) {
      if (error instanceof SendError && error.permanent) throw new AbortError(error);
      last = error instanceof Error ? error.message : String(error);
      throw error;
    }
    return answer;
  };

  try {
    return await pRetry(attempt, {
      retries: 1000,
      minTimeout: options.minBackoffMs ?? 250,
      maxTimeout: options.maxBackoffMs ?? 5000,
      factor: 2,
      randomize: true,
      maxRetryTime: Math.max(0, left()),
      signal: options.signal,
      shouldRetry: () => left() > 0,
      // A 429 has already waited as long as the server asked: a backoff on top only delays the message.
      // A Retry-After of 0 still backs off, so that a server answering it forever is not hammered.
      shouldConsumeRetry: ({ error }) => !(error instanceof RateLimited && error.waitedMs > 0),
    });
  } catch (error) {
    if (error instanceof SendError) throw error;
    throw giveUp(options.what, last);
  }
}

class RateLimited extends Error {
  constructor(
    message: string,
    readonly waitedMs: number,
  ) {
    super(message);
  }
}

function giveUp(what: string, last: string): SendError {
  return new SendError(`${what}: gave up within the notification budget; last: ${last}`, false);
}

/** Seconds or an HTTP date; 1 s when absent or unreadable, as Slack always sends one. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return 1000;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // Date.parse reads bare numbers such as `1.5` or `-1` as dates in 2001: only a text with a month is a date.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

/**
 * What of an answer may go into an error: only an error code such as Slack's (`invalid_payload`,
 * `no_service`), alone or as a JSON `error`. Anything else may echo the request (Express's 404 repeats
 * the webhook URL's secret path, a debugging proxy the Authorization header), so it is only measured.
 */
export function quotable(body: string): string {
  const text = body.trim();
  if (text === '') return '';
  if (isErrorCode(text)) return text;
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof error === 'string' && isErrorCode(error)) return error;
  } catch {
    // Not JSON.
  }
  return `(an answer of ${Buffer.byteLength(text)} bytes, not shown: it may repeat the request)`;
}

/** A lower-case word with underscores: Slack's error codes, and what most APIs answer alike. */
export function isErrorCode(text: string): boolean {
  return /^[a-z][a-z0-9_]{0,63}$/.test(text);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
