import pRetry, { AbortError } from 'p-retry';

/**
 * Every AWS call goes through here: throttling (ELB `ThrottlingException`, Auto Scaling `Throttling`,
 * EC2 `RequestLimitExceeded`, `TooManyRequestsException`) and transient server errors are retried with
 * exponential backoff and jitter, on top of the SDK's own three attempts; anything else fails at once.
 */

export interface RetryOptions {
  retries: number;
  minTimeout: number;
  maxTimeout: number;
  /** Told of each retried attempt, so a long throttled wait is visible. */
  onRetry?: (operation: string, error: Error, attempt: number) => void;
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

export function isRetryable(error: unknown): boolean {
  const e = error as {
    name?: string;
    Code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (throttlingCodes.has(e.name ?? '') || throttlingCodes.has(e.Code ?? '')) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return status >= 500;
}

export async function call<T>(
  operation: string,
  fn: () => Promise<T>,
  options: RetryOptions = defaultRetry,
): Promise<T> {
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
      minTimeout: options.minTimeout,
      maxTimeout: options.maxTimeout,
      randomize: true,
      onFailedAttempt: ({ error, attemptNumber }) => options.onRetry?.(operation, error, attemptNumber),
    },
  );
}
