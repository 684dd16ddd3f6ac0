import { systemClock } from '../../clock.js';
import pRetry, { AbortError } from 'p-retry';

/**
 * Every AWS call goes through here: throttling (ELB `ThrottlingException`, Auto Scaling `Throttling`,
 * EC2 `RequestLimitExceeded`, `TooManyRequestsException`), transient server errors and responses lost
 * on the way back (connection reset, timeout) are retried with exponential backoff and jitter, on top
 * of the SDK's own three attempts; anything else fails at once. A changing call retried after a lost
 * response may already have taken effect: callers make those calls idempotent (ClientToken) or
 * recognise their own result (a group tagged with their deployment).
 */

export interface RetryNotice {
  operation: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long the next attempt waits. */
  waitMs: number;
  error: Error;
}

export interface RetryOptions {
  retries: number;
  minTimeout: number;
  maxTimeout: number;
  /** Told before each wait for a retry, so that a long throttled wait is visible. */
  onRetry?: (notice: RetryNotice) => void;
  /**
   * The deploy's abort signal: a retry wait in progress when it aborts ends at once with its reason.
   * A call that starts after the abort is part of the way back (traffic to blue) and keeps its retries.
   */
  signal?: AbortSignal;
}

export const defaultRetry: RetryOptions = { retries: 8, minTimeout: 500, maxTimeout: 20_000 };

const throttlingCodes = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'SlowDown',
]);

// The SDK's own classification of transient errors (@smithy/service-error-classification): a request
// that timed out or whose connection dropped may have been applied, and its answer lost.
const transientNames = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

export function isRetryable(error: unknown): boolean {
  const e = error as {
    name?: string;
    Code?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (throttlingCodes.has(e.name ?? '') || throttlingCodes.has(e.Code ?? '')) return true;
  if (transientNames.has(e.name ?? '') || networkCodes.has(e.code ?? '')) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return status >= 500;
}

/** Exponential backoff with jitter: between 1 and 2 times `minTimeout × 2^(attempt-1)`, capped. */
function backoff(attempt: number, options: RetryOptions): number {
  const base = options.minTimeout * 2 ** (attempt - 1) * (1 + Math.random());
  return Math.round(Math.min(base, options.maxTimeout));
}

export async function call<T>(
  operation: string,
  fn: () => Promise<T>,
  options: RetryOptions = defaultRetry,
): Promise<T> {
  const signal = options.signal?.aborted ? undefined : options.signal;
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (error) {
        if (!isRetryable(error)) throw new AbortError(error as Error);
        throw error;
      }
    },
    {
      retries: options.retries,
      // The wait is ours, so that it can be announced before it starts; p-retry only loops.
      minTimeout: 0,
      maxTimeout: 0,
      signal,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft <= 0) return;
        const waitMs = backoff(attemptNumber, options);
        options.onRetry?.({ operation, attempt: attemptNumber, waitMs, error });
        if (waitMs > 0) await systemClock.sleep(waitMs, signal);
      },
    },
  );
}
